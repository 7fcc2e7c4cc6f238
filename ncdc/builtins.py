"""The built-in operations of the language, as data shared by the checker and the back ends."""

from __future__ import annotations

# Elementwise maps (a small box on a wire, broadcast over every axis): name -> torch function.
ELEMENTWISE = {
    "relu": "torch.relu",
    "gelu": "nn.functional.gelu",
    "silu": "nn.functional.silu",
    "sigmoid": "torch.sigmoid",
    "tanh": "torch.tanh",
    "exp": "torch.exp",
    "log": "torch.log",
    "sqrt": "torch.sqrt",
    "abs": "torch.abs",
    "sin": "torch.sin",
    "cos": "torch.cos",
}

# The same names applied to a number (a size expression or a literal): name -> math function.
SCALAR_FUNCTIONS = {
    "sqrt": "math.sqrt",
    "exp": "math.exp",
    "log": "math.log",
    "abs": "abs",
    "sin": "math.sin",
    "cos": "math.cos",
    "tanh": "math.tanh",
}

# Reductions over the named axes (`sum[x](S)`; all axes without brackets): name -> tensor method.
REDUCTIONS = {
    "sum": "sum",
    "mean": "mean",
    "max": "amax",
    "min": "amin",
    "prod": "prod",
    "logsumexp": "logsumexp",
}

# Normalising maps over one named axis (the paper's triangle): name -> torch function.
NORMALISERS = {
    "softmax": "torch.softmax",
    "log_softmax": "torch.log_softmax",
}

# Structural operations with rules of their own in the checker.
STRUCTURAL = ("einsum", "rearrange", "flatten", "concat", "eye", "η")

ALL = frozenset(ELEMENTWISE) | frozenset(SCALAR_FUNCTIONS) | frozenset(REDUCTIONS) | frozenset(NORMALISERS) | frozenset(STRUCTURAL)

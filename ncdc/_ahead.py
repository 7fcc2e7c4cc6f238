"""The methods `@frozen` and `@mutable` make for the classes that checking uses, compiled when
ncdc is (into its bytecode) rather than on first use: compiling the ~110 that `ncdc check specs/` makes
took a twentieth of its time.  Made by `ncdc.nodes.ahead_source` (`python -m tests.update_golden`): do
not edit.  Each is taken only where its source, the key, is what would be compiled: an entry out of
date is missed, never used.
"""


def _0(_UNSET, _set, _factory_uid):
    def __init__(self, name, uid=_UNSET):
        _set(self, 'name', name)
        _set(self, 'uid', _factory_uid() if uid is _UNSET else uid)
    return __init__


def _1(_UNSET, _set, _factory_uid, _default_owner):
    def __init__(self, name, uid=_UNSET, owner=_default_owner):
        _set(self, 'name', name)
        _set(self, 'uid', _factory_uid() if uid is _UNSET else uid)
        _set(self, 'owner', owner)
    return __init__


def _2(_UNSET, _set):
    def __init__(self, num, den):
        _set(self, 'num', num)
        _set(self, 'den', den)
    return __init__


def _3():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.num,self.den,) == (other.num,other.den,)
        return NotImplemented
    return __eq__


def _4():
    def __hash__(self):
        return hash((self.num,self.den,))
    return __hash__


def _5(_UNSET, _set):
    def __init__(self, path, text):
        _set(self, 'path', path)
        _set(self, 'text', text)
    return __init__


def _6():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.path,self.text,) == (other.path,other.text,)
        return NotImplemented
    return __eq__


def _7():
    def __hash__(self):
        return hash((self.path,self.text,))
    return __hash__


def _8(_UNSET, _set):
    def __init__(self, source, line, column, end_line, end_column):
        _set(self, 'source', source)
        _set(self, 'line', line)
        _set(self, 'column', column)
        _set(self, 'end_line', end_line)
        _set(self, 'end_column', end_column)
    return __init__


def _9():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.line,self.column,self.end_line,self.end_column,) == (other.line,other.column,other.end_line,other.end_column,)
        return NotImplemented
    return __eq__


def _10():
    def __hash__(self):
        return hash((self.line,self.column,self.end_line,self.end_column,))
    return __hash__


def _11(_UNSET, _set, _default_origin, _default_parts):
    def __init__(self, size, origin=_default_origin, parts=_default_parts):
        _set(self, 'size', size)
        _set(self, 'origin', origin)
        _set(self, 'parts', parts)
    return __init__


def _12():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.size,self.parts,) == (other.size,other.parts,)
        return NotImplemented
    return __eq__


def _13():
    def __hash__(self):
        return hash((self.size,self.parts,))
    return __hash__


def _14(_UNSET, _set, _default_dtype):
    def __init__(self, axes, dtype=_default_dtype):
        _set(self, 'axes', axes)
        _set(self, 'dtype', dtype)
    return __init__


def _15():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.axes,self.dtype,) == (other.axes,other.dtype,)
        return NotImplemented
    return __eq__


def _16():
    def __hash__(self):
        return hash((self.axes,self.dtype,))
    return __hash__


def _17(_UNSET, _set):
    def __init__(self, items):
        _set(self, 'items', items)
    return __init__


def _18():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.items,) == (other.items,)
        return NotImplemented
    return __eq__


def _19():
    def __hash__(self):
        return hash((self.items,))
    return __hash__


def _20(_UNSET, _set, _default_batch, _default_target, _factory_requires):
    def __init__(self, name, kind, inputs, outputs, generics, batch=_default_batch, target=_default_target, requires=_UNSET):
        self.name = name
        self.kind = kind
        self.inputs = inputs
        self.outputs = outputs
        self.generics = generics
        self.batch = batch
        self.target = target
        self.requires = _factory_requires() if requires is _UNSET else requires
    return __init__


def _21():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.name,self.kind,self.inputs,self.outputs,self.generics,self.batch,self.target,self.requires,) == (other.name,other.kind,other.inputs,other.outputs,other.generics,other.batch,other.target,other.requires,)
        return NotImplemented
    return __eq__


def _22(_UNSET, _set):
    def __init__(self, left, op, right):
        _set(self, 'left', left)
        _set(self, 'op', op)
        _set(self, 'right', right)
    return __init__


def _23():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.left,self.op,self.right,) == (other.left,other.op,other.right,)
        return NotImplemented
    return __eq__


def _24():
    def __hash__(self):
        return hash((self.left,self.op,self.right,))
    return __hash__


def _25(_UNSET, _set):
    def __init__(self, var, start, stop):
        _set(self, 'var', var)
        _set(self, 'start', start)
        _set(self, 'stop', stop)
    return __init__


def _26():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.var,self.start,self.stop,) == (other.var,other.start,other.stop,)
        return NotImplemented
    return __eq__


def _27():
    def __hash__(self):
        return hash((self.var,self.start,self.stop,))
    return __hash__


def _28(_UNSET, _set, _default_over):
    def __init__(self, conditions, span, reason, over=_default_over):
        _set(self, 'conditions', conditions)
        _set(self, 'span', span)
        _set(self, 'reason', reason)
        _set(self, 'over', over)
    return __init__


def _29():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.conditions,self.span,self.reason,self.over,) == (other.conditions,other.span,other.reason,other.over,)
        return NotImplemented
    return __eq__


def _30():
    def __hash__(self):
        return hash((self.conditions,self.span,self.reason,self.over,))
    return __hash__


def _31(_UNSET, _set):
    def __init__(self, name, type, span):
        self.name = name
        self.type = type
        self.span = span
    return __init__


def _32(_UNSET, _set):
    def __init__(self, type, span):
        _set(self, 'type', type)
        _set(self, 'span', span)
    return __init__


def _33(_UNSET, _set):
    def __init__(self, type, span, local):
        _set(self, 'type', type)
        _set(self, 'span', span)
        _set(self, 'local', local)
    return __init__


def _34(_UNSET, _set):
    def __init__(self, type, span, name):
        _set(self, 'type', type)
        _set(self, 'span', span)
        _set(self, 'name', name)
    return __init__


def _35(_UNSET, _set):
    def __init__(self, type, span, value):
        _set(self, 'type', type)
        _set(self, 'span', span)
        _set(self, 'value', value)
    return __init__


def _36(_UNSET, _set, _default_choices):
    def __init__(self, name, kind, choices=_default_choices):
        _set(self, 'name', name)
        _set(self, 'kind', kind)
        _set(self, 'choices', choices)
    return __init__


def _37():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.name,self.kind,self.choices,) == (other.name,other.kind,other.choices,)
        return NotImplemented
    return __eq__


def _38():
    def __hash__(self):
        return hash((self.name,self.kind,self.choices,))
    return __hash__


def _39(_UNSET, _set):
    def __init__(self, type, span, size):
        _set(self, 'type', type)
        _set(self, 'span', span)
        _set(self, 'size', size)
    return __init__


def _40(_UNSET, _set):
    def __init__(self, type, span, operand):
        _set(self, 'type', type)
        _set(self, 'span', span)
        _set(self, 'operand', operand)
    return __init__


def _41(_UNSET, _set):
    def __init__(self, positions, unbatched):
        _set(self, 'positions', positions)
        _set(self, 'unbatched', unbatched)
    return __init__


def _42():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.positions,self.unbatched,) == (other.positions,other.unbatched,)
        return NotImplemented
    return __eq__


def _43():
    def __hash__(self):
        return hash((self.positions,self.unbatched,))
    return __hash__


def _44(_UNSET, _set, _default_left_align, _default_right_align):
    def __init__(self, type, span, op, left, right, left_align=_default_left_align, right_align=_default_right_align):
        _set(self, 'type', type)
        _set(self, 'span', span)
        _set(self, 'op', op)
        _set(self, 'left', left)
        _set(self, 'right', right)
        _set(self, 'left_align', left_align)
        _set(self, 'right_align', right_align)
    return __init__


def _45(_UNSET, _set, _default_aligns):
    def __init__(self, type, span, condition, left, right, aligns=_default_aligns):
        _set(self, 'type', type)
        _set(self, 'span', span)
        _set(self, 'condition', condition)
        _set(self, 'left', left)
        _set(self, 'right', right)
        _set(self, 'aligns', aligns)
    return __init__


def _46(_UNSET, _set):
    def __init__(self, type, span, op, left, right):
        _set(self, 'type', type)
        _set(self, 'span', span)
        _set(self, 'op', op)
        _set(self, 'left', left)
        _set(self, 'right', right)
    return __init__


def _47(_UNSET, _set):
    def __init__(self, type, span, fn, operand):
        _set(self, 'type', type)
        _set(self, 'span', span)
        _set(self, 'fn', fn)
        _set(self, 'operand', operand)
    return __init__


def _48(_UNSET, _set):
    def __init__(self, type, span, fn, operand, dim):
        _set(self, 'type', type)
        _set(self, 'span', span)
        _set(self, 'fn', fn)
        _set(self, 'operand', operand)
        _set(self, 'dim', dim)
    return __init__


def _49(_UNSET, _set):
    def __init__(self, type, span, fn, operand, dims, rank):
        _set(self, 'type', type)
        _set(self, 'span', span)
        _set(self, 'fn', fn)
        _set(self, 'operand', operand)
        _set(self, 'dims', dims)
        _set(self, 'rank', rank)
    return __init__


def _50(_UNSET, _set):
    def __init__(self, type, span, operand, count):
        _set(self, 'type', type)
        _set(self, 'span', span)
        _set(self, 'operand', operand)
        _set(self, 'count', count)
    return __init__


def _51(_UNSET, _set):
    def __init__(self, labels):
        _set(self, 'labels', labels)
    return __init__


def _52():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.labels,) == (other.labels,)
        return NotImplemented
    return __eq__


def _53():
    def __hash__(self):
        return hash((self.labels,))
    return __hash__


def _54(_UNSET, _set):
    def __init__(self, type, span, operands, inputs, output, sizes):
        _set(self, 'type', type)
        _set(self, 'span', span)
        _set(self, 'operands', operands)
        _set(self, 'inputs', inputs)
        _set(self, 'output', output)
        _set(self, 'sizes', sizes)
    return __init__


def _55(_UNSET, _set):
    def __init__(self, type, span, operand, input, output, sizes):
        _set(self, 'type', type)
        _set(self, 'span', span)
        _set(self, 'operand', operand)
        _set(self, 'input', input)
        _set(self, 'output', output)
        _set(self, 'sizes', sizes)
    return __init__


def _56(_UNSET, _set):
    def __init__(self, type, span, operands, dim, rank, broadcast):
        _set(self, 'type', type)
        _set(self, 'span', span)
        _set(self, 'operands', operands)
        _set(self, 'dim', dim)
        _set(self, 'rank', rank)
        _set(self, 'broadcast', broadcast)
    return __init__


def _57(_UNSET, _set):
    def __init__(self, type, span, rows, cols):
        _set(self, 'type', type)
        _set(self, 'span', span)
        _set(self, 'rows', rows)
        _set(self, 'cols', cols)
    return __init__


def _58(_UNSET, _set):
    def __init__(self, ):
        pass
    return __init__


def _59():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return () == ()
        return NotImplemented
    return __eq__


def _60():
    def __hash__(self):
        return hash(())
    return __hash__


def _61(_UNSET, _set):
    def __init__(self, position):
        _set(self, 'position', position)
    return __init__


def _62():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.position,) == (other.position,)
        return NotImplemented
    return __eq__


def _63():
    def __hash__(self):
        return hash((self.position,))
    return __hash__


def _64(_UNSET, _set):
    def __init__(self, start, stop):
        _set(self, 'start', start)
        _set(self, 'stop', stop)
    return __init__


def _65():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.start,self.stop,) == (other.start,other.stop,)
        return NotImplemented
    return __eq__


def _66():
    def __hash__(self):
        return hash((self.start,self.stop,))
    return __hash__


def _67(_UNSET, _set):
    def __init__(self, type, span, operand, items):
        _set(self, 'type', type)
        _set(self, 'span', span)
        _set(self, 'operand', operand)
        _set(self, 'items', items)
    return __init__


def _68(_UNSET, _set):
    def __init__(self, label):
        _set(self, 'label', label)
    return __init__


def _69():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.label,) == (other.label,)
        return NotImplemented
    return __eq__


def _70():
    def __hash__(self):
        return hash((self.label,))
    return __hash__


def _71(_UNSET, _set):
    def __init__(self, lifted, own, lead, rank):
        _set(self, 'lifted', lifted)
        _set(self, 'own', own)
        _set(self, 'lead', lead)
        _set(self, 'rank', rank)
    return __init__


def _72():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.lifted,self.own,self.lead,self.rank,) == (other.lifted,other.own,other.lead,other.rank,)
        return NotImplemented
    return __eq__


def _73():
    def __hash__(self):
        return hash((self.lifted,self.own,self.lead,self.rank,))
    return __hash__


def _74(_UNSET, _set, _default_part, _default_position):
    def __init__(self, type, span, callee, signature, arguments, layouts, lifted, before, after, lead, lift_sizes, instance, part=_default_part, position=_default_position):
        _set(self, 'type', type)
        _set(self, 'span', span)
        _set(self, 'callee', callee)
        _set(self, 'signature', signature)
        _set(self, 'arguments', arguments)
        _set(self, 'layouts', layouts)
        _set(self, 'lifted', lifted)
        _set(self, 'before', before)
        _set(self, 'after', after)
        _set(self, 'lead', lead)
        _set(self, 'lift_sizes', lift_sizes)
        _set(self, 'instance', instance)
        _set(self, 'part', part)
        _set(self, 'position', position)
    return __init__


def _75(_UNSET, _set, _default_mask, _default_mask_align, _default_causal, _default_dropout):
    def __init__(self, type, span, query, key, value, scale, mask=_default_mask, mask_align=_default_mask_align, causal=_default_causal, dropout=_default_dropout):
        _set(self, 'type', type)
        _set(self, 'span', span)
        _set(self, 'query', query)
        _set(self, 'key', key)
        _set(self, 'value', value)
        _set(self, 'scale', scale)
        _set(self, 'mask', mask)
        _set(self, 'mask_align', mask_align)
        _set(self, 'causal', causal)
        _set(self, 'dropout', dropout)
    return __init__


def _76(_UNSET, _set):
    def __init__(self, type, span, operand, dim, k):
        _set(self, 'type', type)
        _set(self, 'span', span)
        _set(self, 'operand', operand)
        _set(self, 'dim', dim)
        _set(self, 'k', k)
    return __init__


def _77(_UNSET, _set):
    def __init__(self, type, span, expert, signature, index, arguments, kinds, dims, experts, instance):
        _set(self, 'type', type)
        _set(self, 'span', span)
        _set(self, 'expert', expert)
        _set(self, 'signature', signature)
        _set(self, 'index', index)
        _set(self, 'arguments', arguments)
        _set(self, 'kinds', kinds)
        _set(self, 'dims', dims)
        _set(self, 'experts', experts)
        _set(self, 'instance', instance)
    return __init__


def _78(_UNSET, _set):
    def __init__(self, targets, value, span):
        self.targets = targets
        self.value = value
        self.span = span
    return __init__


def _79():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.targets,self.value,self.span,) == (other.targets,other.value,other.span,)
        return NotImplemented
    return __eq__


def _80(_UNSET, _set):
    def __init__(self, values, span):
        self.values = values
        self.span = span
    return __init__


def _81():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.values,self.span,) == (other.values,other.span,)
        return NotImplemented
    return __eq__


def _82(_UNSET, _set):
    def __init__(self, var, start, stop, body, span):
        self.var = var
        self.start = start
        self.stop = stop
        self.body = body
        self.span = span
    return __init__


def _83():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.var,self.start,self.stop,self.body,self.span,) == (other.var,other.start,other.stop,other.body,other.span,)
        return NotImplemented
    return __eq__


def _84(_UNSET, _set, _default_value):
    def __init__(self, name, op, value=_default_value):
        _set(self, 'name', name)
        _set(self, 'op', op)
        _set(self, 'value', value)
    return __init__


def _85():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.name,self.op,self.value,) == (other.name,other.op,other.value,)
        return NotImplemented
    return __eq__


def _86():
    def __hash__(self):
        return hash((self.name,self.op,self.value,))
    return __hash__


def _87(_UNSET, _set):
    def __init__(self, branches, orelse, span):
        self.branches = branches
        self.orelse = orelse
        self.span = span
    return __init__


def _88():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.branches,self.orelse,self.span,) == (other.branches,other.orelse,other.span,)
        return NotImplemented
    return __eq__


def _89(_UNSET, _set):
    def __init__(self, name, inputs, outputs, generics, span):
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.generics = generics
        self.span = span
    return __init__


def _90():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.name,self.inputs,self.outputs,self.generics,self.span,) == (other.name,other.inputs,other.outputs,other.generics,other.span,)
        return NotImplemented
    return __eq__


def _91(_UNSET, _set, _factory_body, _default_span, _default_header, _factory_boxes, _factory_preconditions):
    def __init__(self, name, params, results, generics, body=_UNSET, span=_default_span, header=_default_header, boxes=_UNSET, preconditions=_UNSET):
        self.name = name
        self.params = params
        self.results = results
        self.generics = generics
        self.body = _factory_body() if body is _UNSET else body
        self.span = span
        self.header = header
        self.boxes = _factory_boxes() if boxes is _UNSET else boxes
        self.preconditions = _factory_preconditions() if preconditions is _UNSET else preconditions
    return __init__


def _92():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.name,self.params,self.results,self.generics,self.body,self.span,self.header,self.boxes,self.preconditions,) == (other.name,other.params,other.results,other.generics,other.body,other.span,other.header,other.boxes,other.preconditions,)
        return NotImplemented
    return __eq__


def _93(_UNSET, _set, _default_kind, _default_choices, _factory_bounds, _default_multiple, _default_default_size):
    def __init__(self, name, symbol, default, span, kind=_default_kind, choices=_default_choices, bounds=_UNSET, multiple=_default_multiple, default_size=_default_default_size):
        self.name = name
        self.symbol = symbol
        self.default = default
        self.span = span
        self.kind = kind
        self.choices = choices
        self.bounds = _factory_bounds() if bounds is _UNSET else bounds
        self.multiple = multiple
        self.default_size = default_size
    return __init__


def _94():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.name,self.symbol,self.default,self.span,self.kind,self.choices,self.bounds,self.multiple,self.default_size,) == (other.name,other.symbol,other.default,other.span,other.kind,other.choices,other.bounds,other.multiple,other.default_size,)
        return NotImplemented
    return __eq__


def _95(_UNSET, _set):
    def __init__(self, name, span, signature):
        self.name = name
        self.span = span
        self.signature = signature
    return __init__


def _96():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.name,self.span,self.signature,) == (other.name,other.span,other.signature,)
        return NotImplemented
    return __eq__


def _97(_UNSET, _set, _default_op, _default_attrs):
    def __init__(self, name, span, signature, op=_default_op, attrs=_default_attrs):
        self.name = name
        self.span = span
        self.signature = signature
        self.op = op
        self.attrs = attrs
    return __init__


def _98():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.name,self.span,self.signature,self.op,self.attrs,) == (other.name,other.span,other.signature,other.op,other.attrs,)
        return NotImplemented
    return __eq__


def _99(_UNSET, _set, _default_module, _factory_args):
    def __init__(self, name, span, signature, module=_default_module, args=_UNSET):
        self.name = name
        self.span = span
        self.signature = signature
        self.module = module
        self.args = _factory_args() if args is _UNSET else args
    return __init__


def _100():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.name,self.span,self.signature,self.module,self.args,) == (other.name,other.span,other.signature,other.module,other.args,)
        return NotImplemented
    return __eq__


def _101(_UNSET, _set, _factory_parts):
    def __init__(self, name, span, signature, parts=_UNSET):
        self.name = name
        self.span = span
        self.signature = signature
        self.parts = _factory_parts() if parts is _UNSET else parts
    return __init__


def _102():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.name,self.span,self.signature,self.parts,) == (other.name,other.span,other.signature,other.parts,)
        return NotImplemented
    return __eq__


def _103(_UNSET, _set, _default_body, _default_index, _factory_start, _factory_stop, _default_instances, _default_whole_error):
    def __init__(self, name, span, signature, body=_default_body, index=_default_index, start=_UNSET, stop=_UNSET, instances=_default_instances, whole_error=_default_whole_error):
        self.name = name
        self.span = span
        self.signature = signature
        self.body = body
        self.index = index
        self.start = _factory_start() if start is _UNSET else start
        self.stop = _factory_stop() if stop is _UNSET else stop
        self.instances = instances
        self.whole_error = whole_error
    return __init__


def _104():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.name,self.span,self.signature,self.body,self.index,self.start,self.stop,self.instances,self.whole_error,) == (other.name,other.span,other.signature,other.body,other.index,other.start,other.stop,other.instances,other.whole_error,)
        return NotImplemented
    return __eq__


def _105(_UNSET, _set):
    def __init__(self, name, symbol, value, span):
        self.name = name
        self.symbol = symbol
        self.value = value
        self.span = span
    return __init__


def _106():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.name,self.symbol,self.value,self.span,) == (other.name,other.symbol,other.value,other.span,)
        return NotImplemented
    return __eq__


def _107(_UNSET, _set):
    def __init__(self, name, value, span):
        self.name = name
        self.value = value
        self.span = span
    return __init__


def _108():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.name,self.value,self.span,) == (other.name,other.value,other.span,)
        return NotImplemented
    return __eq__


def _109(_UNSET, _set, _factory_boxes, _factory_preconditions):
    def __init__(self, name, hparams, members, forward, span, header, boxes=_UNSET, preconditions=_UNSET):
        self.name = name
        self.hparams = hparams
        self.members = members
        self.forward = forward
        self.span = span
        self.header = header
        self.boxes = _factory_boxes() if boxes is _UNSET else boxes
        self.preconditions = _factory_preconditions() if preconditions is _UNSET else preconditions
    return __init__


def _110():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.name,self.hparams,self.members,self.forward,self.span,self.header,self.boxes,self.preconditions,) == (other.name,other.hparams,other.members,other.forward,other.span,other.header,other.boxes,other.preconditions,)
        return NotImplemented
    return __eq__


def _111(_UNSET, _set, _factory_warnings):
    def __init__(self, path, constants, boxes, functions, modules, order, warnings=_UNSET):
        self.path = path
        self.constants = constants
        self.boxes = boxes
        self.functions = functions
        self.modules = modules
        self.order = order
        self.warnings = _factory_warnings() if warnings is _UNSET else warnings
    return __init__


def _112():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.path,self.constants,self.boxes,self.functions,self.modules,self.order,self.warnings,) == (other.path,other.constants,other.boxes,other.functions,other.modules,other.order,other.warnings,)
        return NotImplemented
    return __eq__


def _113(_UNSET, _set, _default_divisor):
    def __init__(self, symbol, wire, axis, divisor=_default_divisor):
        _set(self, 'symbol', symbol)
        _set(self, 'wire', wire)
        _set(self, 'axis', axis)
        _set(self, 'divisor', divisor)
    return __init__


def _114():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.symbol,self.wire,self.axis,self.divisor,) == (other.symbol,other.wire,other.axis,other.divisor,)
        return NotImplemented
    return __eq__


def _115():
    def __hash__(self):
        return hash((self.symbol,self.wire,self.axis,self.divisor,))
    return __hash__


def _116(_UNSET, _set):
    def __init__(self, name, span):
        self.name = name
        self.span = span
    return __init__


def _117():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.name,self.span,) == (other.name,other.span,)
        return NotImplemented
    return __eq__


def _118(_UNSET, _set):
    def __init__(self, value, span):
        self.value = value
        self.span = span
    return __init__


def _119():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.value,self.span,) == (other.value,other.span,)
        return NotImplemented
    return __eq__


def _120(_UNSET, _set):
    def __init__(self, op, left, right, span):
        self.op = op
        self.left = left
        self.right = right
        self.span = span
    return __init__


def _121():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.op,self.left,self.right,self.span,) == (other.op,other.left,other.right,other.span,)
        return NotImplemented
    return __eq__


def _122(_UNSET, _set):
    def __init__(self, items, span):
        self.items = items
        self.span = span
    return __init__


def _123():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.items,self.span,) == (other.items,other.span,)
        return NotImplemented
    return __eq__


def _124(_UNSET, _set, _default_dtype):
    def __init__(self, axes, span, dtype=_default_dtype):
        self.axes = axes
        self.span = span
        self.dtype = dtype
    return __init__


def _125():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.axes,self.span,self.dtype,) == (other.axes,other.span,other.dtype,)
        return NotImplemented
    return __eq__


def _126(_UNSET, _set):
    def __init__(self, operand, span):
        self.operand = operand
        self.span = span
    return __init__


def _127():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.operand,self.span,) == (other.operand,other.span,)
        return NotImplemented
    return __eq__


def _128(_UNSET, _set):
    def __init__(self, start, stop, span):
        self.start = start
        self.stop = stop
        self.span = span
    return __init__


def _129():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.start,self.stop,self.span,) == (other.start,other.stop,other.span,)
        return NotImplemented
    return __eq__


def _130(_UNSET, _set):
    def __init__(self, base, items, span):
        self.base = base
        self.items = items
        self.span = span
    return __init__


def _131():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.base,self.items,self.span,) == (other.base,other.items,other.span,)
        return NotImplemented
    return __eq__


def _132(_UNSET, _set):
    def __init__(self, value, type, span):
        self.value = value
        self.type = type
        self.span = span
    return __init__


def _133():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.value,self.type,self.span,) == (other.value,other.type,other.span,)
        return NotImplemented
    return __eq__


def _134(_UNSET, _set):
    def __init__(self, func, args, options, span):
        self.func = func
        self.args = args
        self.options = options
        self.span = span
    return __init__


def _135():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.func,self.args,self.options,self.span,) == (other.func,other.args,other.options,other.span,)
        return NotImplemented
    return __eq__


def _136(_UNSET, _set, _default_layout):
    def __init__(self, targets, value, span, layout=_default_layout):
        self.targets = targets
        self.value = value
        self.span = span
        self.layout = layout
    return __init__


def _137():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.targets,self.value,self.span,self.layout,) == (other.targets,other.value,other.span,other.layout,)
        return NotImplemented
    return __eq__


def _138(_UNSET, _set):
    def __init__(self, name, op, value, span):
        self.name = name
        self.op = op
        self.value = value
        self.span = span
    return __init__


def _139():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.name,self.op,self.value,self.span,) == (other.name,other.op,other.value,other.span,)
        return NotImplemented
    return __eq__


def _140(_UNSET, _set):
    def __init__(self, inputs, outputs, span):
        self.inputs = inputs
        self.outputs = outputs
        self.span = span
    return __init__


def _141():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.inputs,self.outputs,self.span,) == (other.inputs,other.outputs,other.span,)
        return NotImplemented
    return __eq__


def _142(_UNSET, _set):
    def __init__(self, name, signature, span):
        self.name = name
        self.signature = signature
        self.span = span
    return __init__


def _143():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.name,self.signature,self.span,) == (other.name,other.signature,other.span,)
        return NotImplemented
    return __eq__


def _144():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.name,self.type,self.span,) == (other.name,other.type,other.span,)
        return NotImplemented
    return __eq__


def _145(_UNSET, _set):
    def __init__(self, name, params, results, body, span, header):
        self.name = name
        self.params = params
        self.results = results
        self.body = body
        self.span = span
        self.header = header
    return __init__


def _146():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.name,self.params,self.results,self.body,self.span,self.header,) == (other.name,other.params,other.results,other.body,other.span,other.header,)
        return NotImplemented
    return __eq__


def _147(_UNSET, _set, _default_kind, _factory_choices, _default_kind_span, _default_default_span, _default_pattern, _default_default_size):
    def __init__(self, name, default, span, kind=_default_kind, choices=_UNSET, kind_span=_default_kind_span, default_span=_default_default_span, pattern=_default_pattern, default_size=_default_default_size):
        self.name = name
        self.default = default
        self.span = span
        self.kind = kind
        self.choices = _factory_choices() if choices is _UNSET else choices
        self.kind_span = kind_span
        self.default_span = default_span
        self.pattern = pattern
        self.default_size = default_size
    return __init__


def _148():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.name,self.default,self.span,self.kind,self.choices,self.kind_span,self.default_span,self.pattern,self.default_size,) == (other.name,other.default,other.span,other.kind,other.choices,other.kind_span,other.default_span,other.pattern,other.default_size,)
        return NotImplemented
    return __eq__


def _149(_UNSET, _set):
    def __init__(self, name, axes_in, axes_out, args, options, span):
        self.name = name
        self.axes_in = axes_in
        self.axes_out = axes_out
        self.args = args
        self.options = options
        self.span = span
    return __init__


def _150():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.name,self.axes_in,self.axes_out,self.args,self.options,self.span,) == (other.name,other.axes_in,other.axes_out,other.args,other.options,other.span,)
        return NotImplemented
    return __eq__


def _151(_UNSET, _set):
    def __init__(self, body, var, start, stop, span):
        self.body = body
        self.var = var
        self.start = start
        self.stop = stop
        self.span = span
    return __init__


def _152():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.body,self.var,self.start,self.stop,self.span,) == (other.body,other.var,other.start,other.stop,other.span,)
        return NotImplemented
    return __eq__


def _153(_UNSET, _set):
    def __init__(self, name, hparams, members, methods, span, header):
        self.name = name
        self.hparams = hparams
        self.members = members
        self.methods = methods
        self.span = span
        self.header = header
    return __init__


def _154():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.name,self.hparams,self.members,self.methods,self.span,self.header,) == (other.name,other.hparams,other.members,other.methods,other.span,other.header,)
        return NotImplemented
    return __eq__


def _155(_UNSET, _set):
    def __init__(self, module, names, span):
        self.module = module
        self.names = names
        self.span = span
    return __init__


def _156():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.module,self.names,self.span,) == (other.module,other.names,other.span,)
        return NotImplemented
    return __eq__


def _157(_UNSET, _set, _factory_items, _factory_imports):
    def __init__(self, items=_UNSET, imports=_UNSET):
        self.items = _factory_items() if items is _UNSET else items
        self.imports = _factory_imports() if imports is _UNSET else imports
    return __init__


def _158():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.items,self.imports,) == (other.items,other.imports,)
        return NotImplemented
    return __eq__


def _159(_UNSET, _set, _default_text):
    def __init__(self, span, text=_default_text):
        _set(self, 'span', span)
        _set(self, 'text', text)
    return __init__


def _160():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.span,self.text,) == (other.span,other.text,)
        return NotImplemented
    return __eq__


def _161():
    def __hash__(self):
        return hash((self.span,self.text,))
    return __hash__


def _162(_UNSET, _set, _default_span, _default_label, _factory_notes, _default_help, _default_severity, _default_file, _factory_labels):
    def __init__(self, code, message, span=_default_span, label=_default_label, notes=_UNSET, help=_default_help, severity=_default_severity, file=_default_file, labels=_UNSET):
        self.code = code
        self.message = message
        self.span = span
        self.label = label
        self.notes = _factory_notes() if notes is _UNSET else notes
        self.help = help
        self.severity = severity
        self.file = file
        self.labels = _factory_labels() if labels is _UNSET else labels
    return __init__


def _163():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.code,self.message,self.span,self.label,self.notes,self.help,self.severity,self.file,self.labels,) == (other.code,other.message,other.span,other.label,other.notes,other.help,other.severity,other.file,other.labels,)
        return NotImplemented
    return __eq__


def _164(_UNSET, _set, _default_number):
    def __init__(self, value, span, what, number=_default_number):
        self.value = value
        self.span = span
        self.what = what
        self.number = number
    return __init__


def _165():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.value,self.span,self.what,self.number,) == (other.value,other.span,other.what,other.number,)
        return NotImplemented
    return __eq__


def _166(_UNSET, _set, _default_parent, _factory_sizes, _factory_wires, _factory_components, _factory_values, _factory_buffers, _factory_later):
    def __init__(self, parent=_default_parent, sizes=_UNSET, wires=_UNSET, components=_UNSET, values=_UNSET, buffers=_UNSET, later=_UNSET):
        self.parent = parent
        self.sizes = _factory_sizes() if sizes is _UNSET else sizes
        self.wires = _factory_wires() if wires is _UNSET else wires
        self.components = _factory_components() if components is _UNSET else components
        self.values = _factory_values() if values is _UNSET else values
        self.buffers = _factory_buffers() if buffers is _UNSET else buffers
        self.later = _factory_later() if later is _UNSET else later
    return __init__


def _167():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.parent,self.sizes,self.wires,self.components,self.values,self.buffers,self.later,) == (other.parent,other.sizes,other.wires,other.components,other.values,other.buffers,other.later,)
        return NotImplemented
    return __eq__


def _168(_UNSET, _set, _default_bias, _default_transposed):
    def __init__(self, inputs, outputs, bias=_default_bias, transposed=_default_transposed):
        _set(self, 'inputs', inputs)
        _set(self, 'outputs', outputs)
        _set(self, 'bias', bias)
        _set(self, 'transposed', transposed)
    return __init__


def _169():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.inputs,self.outputs,self.bias,self.transposed,) == (other.inputs,other.outputs,other.bias,other.transposed,)
        return NotImplemented
    return __eq__


def _170():
    def __hash__(self):
        return hash((self.inputs,self.outputs,self.bias,self.transposed,))
    return __hash__


def _171(_UNSET, _set, _default_stride, _default_padding, _default_dilation, _default_groups, _default_bias):
    def __init__(self, channels_in, channels_out, dims, kernel, stride=_default_stride, padding=_default_padding, dilation=_default_dilation, groups=_default_groups, bias=_default_bias):
        _set(self, 'channels_in', channels_in)
        _set(self, 'channels_out', channels_out)
        _set(self, 'dims', dims)
        _set(self, 'kernel', kernel)
        _set(self, 'stride', stride)
        _set(self, 'padding', padding)
        _set(self, 'dilation', dilation)
        _set(self, 'groups', groups)
        _set(self, 'bias', bias)
    return __init__


def _172():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.channels_in,self.channels_out,self.dims,self.kernel,self.stride,self.padding,self.dilation,self.groups,self.bias,) == (other.channels_in,other.channels_out,other.dims,other.kernel,other.stride,other.padding,other.dilation,other.groups,other.bias,)
        return NotImplemented
    return __eq__


def _173():
    def __hash__(self):
        return hash((self.channels_in,self.channels_out,self.dims,self.kernel,self.stride,self.padding,self.dilation,self.groups,self.bias,))
    return __hash__


def _174(_UNSET, _set, _default_stride, _default_padding, _default_dilation, _default_groups, _default_bias, _default_output_padding):
    def __init__(self, channels_in, channels_out, dims, kernel, stride=_default_stride, padding=_default_padding, dilation=_default_dilation, groups=_default_groups, bias=_default_bias, output_padding=_default_output_padding):
        _set(self, 'channels_in', channels_in)
        _set(self, 'channels_out', channels_out)
        _set(self, 'dims', dims)
        _set(self, 'kernel', kernel)
        _set(self, 'stride', stride)
        _set(self, 'padding', padding)
        _set(self, 'dilation', dilation)
        _set(self, 'groups', groups)
        _set(self, 'bias', bias)
        _set(self, 'output_padding', output_padding)
    return __init__


def _175():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.channels_in,self.channels_out,self.dims,self.kernel,self.stride,self.padding,self.dilation,self.groups,self.bias,self.output_padding,) == (other.channels_in,other.channels_out,other.dims,other.kernel,other.stride,other.padding,other.dilation,other.groups,other.bias,other.output_padding,)
        return NotImplemented
    return __eq__


def _176():
    def __hash__(self):
        return hash((self.channels_in,self.channels_out,self.dims,self.kernel,self.stride,self.padding,self.dilation,self.groups,self.bias,self.output_padding,))
    return __hash__


def _177(_UNSET, _set, _default_stride, _default_padding):
    def __init__(self, dims, kernel, stride=_default_stride, padding=_default_padding):
        _set(self, 'dims', dims)
        _set(self, 'kernel', kernel)
        _set(self, 'stride', stride)
        _set(self, 'padding', padding)
    return __init__


def _178():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.dims,self.kernel,self.stride,self.padding,) == (other.dims,other.kernel,other.stride,other.padding,)
        return NotImplemented
    return __eq__


def _179():
    def __hash__(self):
        return hash((self.dims,self.kernel,self.stride,self.padding,))
    return __hash__


def _180(_UNSET, _set):
    def __init__(self, dims, output):
        _set(self, 'dims', dims)
        _set(self, 'output', output)
    return __init__


def _181():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.dims,self.output,) == (other.dims,other.output,)
        return NotImplemented
    return __eq__


def _182():
    def __hash__(self):
        return hash((self.dims,self.output,))
    return __hash__


def _183(_UNSET, _set, _default_eps, _default_momentum):
    def __init__(self, channels, dims, eps=_default_eps, momentum=_default_momentum):
        _set(self, 'channels', channels)
        _set(self, 'dims', dims)
        _set(self, 'eps', eps)
        _set(self, 'momentum', momentum)
    return __init__


def _184():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.channels,self.dims,self.eps,self.momentum,) == (other.channels,other.dims,other.eps,other.momentum,)
        return NotImplemented
    return __eq__


def _185():
    def __hash__(self):
        return hash((self.channels,self.dims,self.eps,self.momentum,))
    return __hash__


def _186(_UNSET, _set, _default_eps):
    def __init__(self, axes, eps=_default_eps):
        _set(self, 'axes', axes)
        _set(self, 'eps', eps)
    return __init__


def _187():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.axes,self.eps,) == (other.axes,other.eps,)
        return NotImplemented
    return __eq__


def _188():
    def __hash__(self):
        return hash((self.axes,self.eps,))
    return __hash__


def _189(_UNSET, _set, _default_eps):
    def __init__(self, channels, groups, eps=_default_eps):
        _set(self, 'channels', channels)
        _set(self, 'groups', groups)
        _set(self, 'eps', eps)
    return __init__


def _190():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.channels,self.groups,self.eps,) == (other.channels,other.groups,other.eps,)
        return NotImplemented
    return __eq__


def _191():
    def __hash__(self):
        return hash((self.channels,self.groups,self.eps,))
    return __hash__


def _192(_UNSET, _set, _default_p):
    def __init__(self, p=_default_p):
        _set(self, 'p', p)
    return __init__


def _193():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.p,) == (other.p,)
        return NotImplemented
    return __eq__


def _194():
    def __hash__(self):
        return hash((self.p,))
    return __hash__


def _195(_UNSET, _set):
    def __init__(self, count, dim):
        _set(self, 'count', count)
        _set(self, 'dim', dim)
    return __init__


def _196():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.count,self.dim,) == (other.count,other.dim,)
        return NotImplemented
    return __eq__


def _197():
    def __hash__(self):
        return hash((self.count,self.dim,))
    return __hash__


def _198(_UNSET, _set, _default_std):
    def __init__(self, type, std=_default_std):
        _set(self, 'type', type)
        _set(self, 'std', std)
    return __init__


def _199():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.type,self.std,) == (other.type,other.std,)
        return NotImplemented
    return __eq__


def _200():
    def __hash__(self):
        return hash((self.type,self.std,))
    return __hash__


def _201(_UNSET, _set, _default_option):
    def __init__(self, conditions, reason, option=_default_option):
        _set(self, 'conditions', conditions)
        _set(self, 'reason', reason)
        _set(self, 'option', option)
    return __init__


def _202():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.conditions,self.reason,self.option,) == (other.conditions,other.reason,other.option,)
        return NotImplemented
    return __eq__


def _203():
    def __hash__(self):
        return hash((self.conditions,self.reason,self.option,))
    return __hash__


def _204(_UNSET, _set, _default_fixed_rank, _default_requires):
    def __init__(self, name, attrs, check, fixed_rank=_default_fixed_rank, requires=_default_requires):
        _set(self, 'name', name)
        _set(self, 'attrs', attrs)
        _set(self, 'check', check)
        _set(self, 'fixed_rank', fixed_rank)
        _set(self, 'requires', requires)
    return __init__


def _205():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.name,self.attrs,self.check,self.fixed_rank,self.requires,) == (other.name,other.attrs,other.check,other.fixed_rank,other.requires,)
        return NotImplemented
    return __eq__


def _206():
    def __hash__(self):
        return hash((self.name,self.attrs,self.check,self.fixed_rank,self.requires,))
    return __hash__


def _207(_UNSET, _set, _default_on_numbers, _default_accepts):
    def __init__(self, name, family, node, check, on_numbers=_default_on_numbers, accepts=_default_accepts):
        _set(self, 'name', name)
        _set(self, 'family', family)
        _set(self, 'node', node)
        _set(self, 'check', check)
        _set(self, 'on_numbers', on_numbers)
        _set(self, 'accepts', accepts)
    return __init__


def _208():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.name,self.family,self.node,self.check,self.on_numbers,self.accepts,) == (other.name,other.family,other.node,other.check,other.on_numbers,other.accepts,)
        return NotImplemented
    return __eq__


def _209():
    def __hash__(self):
        return hash((self.name,self.family,self.node,self.check,self.on_numbers,self.accepts,))
    return __hash__


def _210(_UNSET, _set):
    def __init__(self, reason, expected, actual):
        self.reason = reason
        self.expected = expected
        self.actual = actual
    return __init__


def _211():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.reason,self.expected,self.actual,) == (other.reason,other.expected,other.actual,)
        return NotImplemented
    return __eq__


def _212(_UNSET, _set):
    def __init__(self, solver):
        self.solver = solver
    return __init__


def _213():
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return (self.solver,) == (other.solver,)
        return NotImplemented
    return __eq__


MADE: dict = {  # source: the function that makes its method
    "def __init__(self, name, uid=_UNSET):\n    _set(self, 'name', name)\n    _set(self, 'uid', _factory_uid() if uid is _UNSET else uid)\n": _0,
    "def __init__(self, name, uid=_UNSET, owner=_default_owner):\n    _set(self, 'name', name)\n    _set(self, 'uid', _factory_uid() if uid is _UNSET else uid)\n    _set(self, 'owner', owner)\n": _1,
    "def __init__(self, num, den):\n    _set(self, 'num', num)\n    _set(self, 'den', den)\n": _2,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.num,self.den,) == (other.num,other.den,)\n    return NotImplemented\n': _3,
    'def __hash__(self):\n    return hash((self.num,self.den,))\n': _4,
    "def __init__(self, path, text):\n    _set(self, 'path', path)\n    _set(self, 'text', text)\n": _5,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.path,self.text,) == (other.path,other.text,)\n    return NotImplemented\n': _6,
    'def __hash__(self):\n    return hash((self.path,self.text,))\n': _7,
    "def __init__(self, source, line, column, end_line, end_column):\n    _set(self, 'source', source)\n    _set(self, 'line', line)\n    _set(self, 'column', column)\n    _set(self, 'end_line', end_line)\n    _set(self, 'end_column', end_column)\n": _8,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.line,self.column,self.end_line,self.end_column,) == (other.line,other.column,other.end_line,other.end_column,)\n    return NotImplemented\n': _9,
    'def __hash__(self):\n    return hash((self.line,self.column,self.end_line,self.end_column,))\n': _10,
    "def __init__(self, size, origin=_default_origin, parts=_default_parts):\n    _set(self, 'size', size)\n    _set(self, 'origin', origin)\n    _set(self, 'parts', parts)\n": _11,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.size,self.parts,) == (other.size,other.parts,)\n    return NotImplemented\n': _12,
    'def __hash__(self):\n    return hash((self.size,self.parts,))\n': _13,
    "def __init__(self, axes, dtype=_default_dtype):\n    _set(self, 'axes', axes)\n    _set(self, 'dtype', dtype)\n": _14,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.axes,self.dtype,) == (other.axes,other.dtype,)\n    return NotImplemented\n': _15,
    'def __hash__(self):\n    return hash((self.axes,self.dtype,))\n': _16,
    "def __init__(self, items):\n    _set(self, 'items', items)\n": _17,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.items,) == (other.items,)\n    return NotImplemented\n': _18,
    'def __hash__(self):\n    return hash((self.items,))\n': _19,
    'def __init__(self, name, kind, inputs, outputs, generics, batch=_default_batch, target=_default_target, requires=_UNSET):\n    self.name = name\n    self.kind = kind\n    self.inputs = inputs\n    self.outputs = outputs\n    self.generics = generics\n    self.batch = batch\n    self.target = target\n    self.requires = _factory_requires() if requires is _UNSET else requires\n': _20,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.name,self.kind,self.inputs,self.outputs,self.generics,self.batch,self.target,self.requires,) == (other.name,other.kind,other.inputs,other.outputs,other.generics,other.batch,other.target,other.requires,)\n    return NotImplemented\n': _21,
    "def __init__(self, left, op, right):\n    _set(self, 'left', left)\n    _set(self, 'op', op)\n    _set(self, 'right', right)\n": _22,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.left,self.op,self.right,) == (other.left,other.op,other.right,)\n    return NotImplemented\n': _23,
    'def __hash__(self):\n    return hash((self.left,self.op,self.right,))\n': _24,
    "def __init__(self, var, start, stop):\n    _set(self, 'var', var)\n    _set(self, 'start', start)\n    _set(self, 'stop', stop)\n": _25,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.var,self.start,self.stop,) == (other.var,other.start,other.stop,)\n    return NotImplemented\n': _26,
    'def __hash__(self):\n    return hash((self.var,self.start,self.stop,))\n': _27,
    "def __init__(self, conditions, span, reason, over=_default_over):\n    _set(self, 'conditions', conditions)\n    _set(self, 'span', span)\n    _set(self, 'reason', reason)\n    _set(self, 'over', over)\n": _28,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.conditions,self.span,self.reason,self.over,) == (other.conditions,other.span,other.reason,other.over,)\n    return NotImplemented\n': _29,
    'def __hash__(self):\n    return hash((self.conditions,self.span,self.reason,self.over,))\n': _30,
    'def __init__(self, name, type, span):\n    self.name = name\n    self.type = type\n    self.span = span\n': _31,
    "def __init__(self, type, span):\n    _set(self, 'type', type)\n    _set(self, 'span', span)\n": _32,
    "def __init__(self, type, span, local):\n    _set(self, 'type', type)\n    _set(self, 'span', span)\n    _set(self, 'local', local)\n": _33,
    "def __init__(self, type, span, name):\n    _set(self, 'type', type)\n    _set(self, 'span', span)\n    _set(self, 'name', name)\n": _34,
    "def __init__(self, type, span, value):\n    _set(self, 'type', type)\n    _set(self, 'span', span)\n    _set(self, 'value', value)\n": _35,
    "def __init__(self, name, kind, choices=_default_choices):\n    _set(self, 'name', name)\n    _set(self, 'kind', kind)\n    _set(self, 'choices', choices)\n": _36,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.name,self.kind,self.choices,) == (other.name,other.kind,other.choices,)\n    return NotImplemented\n': _37,
    'def __hash__(self):\n    return hash((self.name,self.kind,self.choices,))\n': _38,
    "def __init__(self, type, span, size):\n    _set(self, 'type', type)\n    _set(self, 'span', span)\n    _set(self, 'size', size)\n": _39,
    "def __init__(self, type, span, operand):\n    _set(self, 'type', type)\n    _set(self, 'span', span)\n    _set(self, 'operand', operand)\n": _40,
    "def __init__(self, positions, unbatched):\n    _set(self, 'positions', positions)\n    _set(self, 'unbatched', unbatched)\n": _41,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.positions,self.unbatched,) == (other.positions,other.unbatched,)\n    return NotImplemented\n': _42,
    'def __hash__(self):\n    return hash((self.positions,self.unbatched,))\n': _43,
    "def __init__(self, type, span, op, left, right, left_align=_default_left_align, right_align=_default_right_align):\n    _set(self, 'type', type)\n    _set(self, 'span', span)\n    _set(self, 'op', op)\n    _set(self, 'left', left)\n    _set(self, 'right', right)\n    _set(self, 'left_align', left_align)\n    _set(self, 'right_align', right_align)\n": _44,
    "def __init__(self, type, span, condition, left, right, aligns=_default_aligns):\n    _set(self, 'type', type)\n    _set(self, 'span', span)\n    _set(self, 'condition', condition)\n    _set(self, 'left', left)\n    _set(self, 'right', right)\n    _set(self, 'aligns', aligns)\n": _45,
    "def __init__(self, type, span, op, left, right):\n    _set(self, 'type', type)\n    _set(self, 'span', span)\n    _set(self, 'op', op)\n    _set(self, 'left', left)\n    _set(self, 'right', right)\n": _46,
    "def __init__(self, type, span, fn, operand):\n    _set(self, 'type', type)\n    _set(self, 'span', span)\n    _set(self, 'fn', fn)\n    _set(self, 'operand', operand)\n": _47,
    "def __init__(self, type, span, fn, operand, dim):\n    _set(self, 'type', type)\n    _set(self, 'span', span)\n    _set(self, 'fn', fn)\n    _set(self, 'operand', operand)\n    _set(self, 'dim', dim)\n": _48,
    "def __init__(self, type, span, fn, operand, dims, rank):\n    _set(self, 'type', type)\n    _set(self, 'span', span)\n    _set(self, 'fn', fn)\n    _set(self, 'operand', operand)\n    _set(self, 'dims', dims)\n    _set(self, 'rank', rank)\n": _49,
    "def __init__(self, type, span, operand, count):\n    _set(self, 'type', type)\n    _set(self, 'span', span)\n    _set(self, 'operand', operand)\n    _set(self, 'count', count)\n": _50,
    "def __init__(self, labels):\n    _set(self, 'labels', labels)\n": _51,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.labels,) == (other.labels,)\n    return NotImplemented\n': _52,
    'def __hash__(self):\n    return hash((self.labels,))\n': _53,
    "def __init__(self, type, span, operands, inputs, output, sizes):\n    _set(self, 'type', type)\n    _set(self, 'span', span)\n    _set(self, 'operands', operands)\n    _set(self, 'inputs', inputs)\n    _set(self, 'output', output)\n    _set(self, 'sizes', sizes)\n": _54,
    "def __init__(self, type, span, operand, input, output, sizes):\n    _set(self, 'type', type)\n    _set(self, 'span', span)\n    _set(self, 'operand', operand)\n    _set(self, 'input', input)\n    _set(self, 'output', output)\n    _set(self, 'sizes', sizes)\n": _55,
    "def __init__(self, type, span, operands, dim, rank, broadcast):\n    _set(self, 'type', type)\n    _set(self, 'span', span)\n    _set(self, 'operands', operands)\n    _set(self, 'dim', dim)\n    _set(self, 'rank', rank)\n    _set(self, 'broadcast', broadcast)\n": _56,
    "def __init__(self, type, span, rows, cols):\n    _set(self, 'type', type)\n    _set(self, 'span', span)\n    _set(self, 'rows', rows)\n    _set(self, 'cols', cols)\n": _57,
    'def __init__(self, ):\n    pass\n': _58,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return () == ()\n    return NotImplemented\n': _59,
    'def __hash__(self):\n    return hash(())\n': _60,
    "def __init__(self, position):\n    _set(self, 'position', position)\n": _61,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.position,) == (other.position,)\n    return NotImplemented\n': _62,
    'def __hash__(self):\n    return hash((self.position,))\n': _63,
    "def __init__(self, start, stop):\n    _set(self, 'start', start)\n    _set(self, 'stop', stop)\n": _64,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.start,self.stop,) == (other.start,other.stop,)\n    return NotImplemented\n': _65,
    'def __hash__(self):\n    return hash((self.start,self.stop,))\n': _66,
    "def __init__(self, type, span, operand, items):\n    _set(self, 'type', type)\n    _set(self, 'span', span)\n    _set(self, 'operand', operand)\n    _set(self, 'items', items)\n": _67,
    "def __init__(self, label):\n    _set(self, 'label', label)\n": _68,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.label,) == (other.label,)\n    return NotImplemented\n': _69,
    'def __hash__(self):\n    return hash((self.label,))\n': _70,
    "def __init__(self, lifted, own, lead, rank):\n    _set(self, 'lifted', lifted)\n    _set(self, 'own', own)\n    _set(self, 'lead', lead)\n    _set(self, 'rank', rank)\n": _71,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.lifted,self.own,self.lead,self.rank,) == (other.lifted,other.own,other.lead,other.rank,)\n    return NotImplemented\n': _72,
    'def __hash__(self):\n    return hash((self.lifted,self.own,self.lead,self.rank,))\n': _73,
    "def __init__(self, type, span, callee, signature, arguments, layouts, lifted, before, after, lead, lift_sizes, instance, part=_default_part, position=_default_position):\n    _set(self, 'type', type)\n    _set(self, 'span', span)\n    _set(self, 'callee', callee)\n    _set(self, 'signature', signature)\n    _set(self, 'arguments', arguments)\n    _set(self, 'layouts', layouts)\n    _set(self, 'lifted', lifted)\n    _set(self, 'before', before)\n    _set(self, 'after', after)\n    _set(self, 'lead', lead)\n    _set(self, 'lift_sizes', lift_sizes)\n    _set(self, 'instance', instance)\n    _set(self, 'part', part)\n    _set(self, 'position', position)\n": _74,
    "def __init__(self, type, span, query, key, value, scale, mask=_default_mask, mask_align=_default_mask_align, causal=_default_causal, dropout=_default_dropout):\n    _set(self, 'type', type)\n    _set(self, 'span', span)\n    _set(self, 'query', query)\n    _set(self, 'key', key)\n    _set(self, 'value', value)\n    _set(self, 'scale', scale)\n    _set(self, 'mask', mask)\n    _set(self, 'mask_align', mask_align)\n    _set(self, 'causal', causal)\n    _set(self, 'dropout', dropout)\n": _75,
    "def __init__(self, type, span, operand, dim, k):\n    _set(self, 'type', type)\n    _set(self, 'span', span)\n    _set(self, 'operand', operand)\n    _set(self, 'dim', dim)\n    _set(self, 'k', k)\n": _76,
    "def __init__(self, type, span, expert, signature, index, arguments, kinds, dims, experts, instance):\n    _set(self, 'type', type)\n    _set(self, 'span', span)\n    _set(self, 'expert', expert)\n    _set(self, 'signature', signature)\n    _set(self, 'index', index)\n    _set(self, 'arguments', arguments)\n    _set(self, 'kinds', kinds)\n    _set(self, 'dims', dims)\n    _set(self, 'experts', experts)\n    _set(self, 'instance', instance)\n": _77,
    'def __init__(self, targets, value, span):\n    self.targets = targets\n    self.value = value\n    self.span = span\n': _78,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.targets,self.value,self.span,) == (other.targets,other.value,other.span,)\n    return NotImplemented\n': _79,
    'def __init__(self, values, span):\n    self.values = values\n    self.span = span\n': _80,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.values,self.span,) == (other.values,other.span,)\n    return NotImplemented\n': _81,
    'def __init__(self, var, start, stop, body, span):\n    self.var = var\n    self.start = start\n    self.stop = stop\n    self.body = body\n    self.span = span\n': _82,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.var,self.start,self.stop,self.body,self.span,) == (other.var,other.start,other.stop,other.body,other.span,)\n    return NotImplemented\n': _83,
    "def __init__(self, name, op, value=_default_value):\n    _set(self, 'name', name)\n    _set(self, 'op', op)\n    _set(self, 'value', value)\n": _84,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.name,self.op,self.value,) == (other.name,other.op,other.value,)\n    return NotImplemented\n': _85,
    'def __hash__(self):\n    return hash((self.name,self.op,self.value,))\n': _86,
    'def __init__(self, branches, orelse, span):\n    self.branches = branches\n    self.orelse = orelse\n    self.span = span\n': _87,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.branches,self.orelse,self.span,) == (other.branches,other.orelse,other.span,)\n    return NotImplemented\n': _88,
    'def __init__(self, name, inputs, outputs, generics, span):\n    self.name = name\n    self.inputs = inputs\n    self.outputs = outputs\n    self.generics = generics\n    self.span = span\n': _89,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.name,self.inputs,self.outputs,self.generics,self.span,) == (other.name,other.inputs,other.outputs,other.generics,other.span,)\n    return NotImplemented\n': _90,
    'def __init__(self, name, params, results, generics, body=_UNSET, span=_default_span, header=_default_header, boxes=_UNSET, preconditions=_UNSET):\n    self.name = name\n    self.params = params\n    self.results = results\n    self.generics = generics\n    self.body = _factory_body() if body is _UNSET else body\n    self.span = span\n    self.header = header\n    self.boxes = _factory_boxes() if boxes is _UNSET else boxes\n    self.preconditions = _factory_preconditions() if preconditions is _UNSET else preconditions\n': _91,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.name,self.params,self.results,self.generics,self.body,self.span,self.header,self.boxes,self.preconditions,) == (other.name,other.params,other.results,other.generics,other.body,other.span,other.header,other.boxes,other.preconditions,)\n    return NotImplemented\n': _92,
    'def __init__(self, name, symbol, default, span, kind=_default_kind, choices=_default_choices, bounds=_UNSET, multiple=_default_multiple, default_size=_default_default_size):\n    self.name = name\n    self.symbol = symbol\n    self.default = default\n    self.span = span\n    self.kind = kind\n    self.choices = choices\n    self.bounds = _factory_bounds() if bounds is _UNSET else bounds\n    self.multiple = multiple\n    self.default_size = default_size\n': _93,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.name,self.symbol,self.default,self.span,self.kind,self.choices,self.bounds,self.multiple,self.default_size,) == (other.name,other.symbol,other.default,other.span,other.kind,other.choices,other.bounds,other.multiple,other.default_size,)\n    return NotImplemented\n': _94,
    'def __init__(self, name, span, signature):\n    self.name = name\n    self.span = span\n    self.signature = signature\n': _95,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.name,self.span,self.signature,) == (other.name,other.span,other.signature,)\n    return NotImplemented\n': _96,
    'def __init__(self, name, span, signature, op=_default_op, attrs=_default_attrs):\n    self.name = name\n    self.span = span\n    self.signature = signature\n    self.op = op\n    self.attrs = attrs\n': _97,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.name,self.span,self.signature,self.op,self.attrs,) == (other.name,other.span,other.signature,other.op,other.attrs,)\n    return NotImplemented\n': _98,
    'def __init__(self, name, span, signature, module=_default_module, args=_UNSET):\n    self.name = name\n    self.span = span\n    self.signature = signature\n    self.module = module\n    self.args = _factory_args() if args is _UNSET else args\n': _99,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.name,self.span,self.signature,self.module,self.args,) == (other.name,other.span,other.signature,other.module,other.args,)\n    return NotImplemented\n': _100,
    'def __init__(self, name, span, signature, parts=_UNSET):\n    self.name = name\n    self.span = span\n    self.signature = signature\n    self.parts = _factory_parts() if parts is _UNSET else parts\n': _101,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.name,self.span,self.signature,self.parts,) == (other.name,other.span,other.signature,other.parts,)\n    return NotImplemented\n': _102,
    'def __init__(self, name, span, signature, body=_default_body, index=_default_index, start=_UNSET, stop=_UNSET, instances=_default_instances, whole_error=_default_whole_error):\n    self.name = name\n    self.span = span\n    self.signature = signature\n    self.body = body\n    self.index = index\n    self.start = _factory_start() if start is _UNSET else start\n    self.stop = _factory_stop() if stop is _UNSET else stop\n    self.instances = instances\n    self.whole_error = whole_error\n': _103,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.name,self.span,self.signature,self.body,self.index,self.start,self.stop,self.instances,self.whole_error,) == (other.name,other.span,other.signature,other.body,other.index,other.start,other.stop,other.instances,other.whole_error,)\n    return NotImplemented\n': _104,
    'def __init__(self, name, symbol, value, span):\n    self.name = name\n    self.symbol = symbol\n    self.value = value\n    self.span = span\n': _105,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.name,self.symbol,self.value,self.span,) == (other.name,other.symbol,other.value,other.span,)\n    return NotImplemented\n': _106,
    'def __init__(self, name, value, span):\n    self.name = name\n    self.value = value\n    self.span = span\n': _107,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.name,self.value,self.span,) == (other.name,other.value,other.span,)\n    return NotImplemented\n': _108,
    'def __init__(self, name, hparams, members, forward, span, header, boxes=_UNSET, preconditions=_UNSET):\n    self.name = name\n    self.hparams = hparams\n    self.members = members\n    self.forward = forward\n    self.span = span\n    self.header = header\n    self.boxes = _factory_boxes() if boxes is _UNSET else boxes\n    self.preconditions = _factory_preconditions() if preconditions is _UNSET else preconditions\n': _109,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.name,self.hparams,self.members,self.forward,self.span,self.header,self.boxes,self.preconditions,) == (other.name,other.hparams,other.members,other.forward,other.span,other.header,other.boxes,other.preconditions,)\n    return NotImplemented\n': _110,
    'def __init__(self, path, constants, boxes, functions, modules, order, warnings=_UNSET):\n    self.path = path\n    self.constants = constants\n    self.boxes = boxes\n    self.functions = functions\n    self.modules = modules\n    self.order = order\n    self.warnings = _factory_warnings() if warnings is _UNSET else warnings\n': _111,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.path,self.constants,self.boxes,self.functions,self.modules,self.order,self.warnings,) == (other.path,other.constants,other.boxes,other.functions,other.modules,other.order,other.warnings,)\n    return NotImplemented\n': _112,
    "def __init__(self, symbol, wire, axis, divisor=_default_divisor):\n    _set(self, 'symbol', symbol)\n    _set(self, 'wire', wire)\n    _set(self, 'axis', axis)\n    _set(self, 'divisor', divisor)\n": _113,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.symbol,self.wire,self.axis,self.divisor,) == (other.symbol,other.wire,other.axis,other.divisor,)\n    return NotImplemented\n': _114,
    'def __hash__(self):\n    return hash((self.symbol,self.wire,self.axis,self.divisor,))\n': _115,
    'def __init__(self, name, span):\n    self.name = name\n    self.span = span\n': _116,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.name,self.span,) == (other.name,other.span,)\n    return NotImplemented\n': _117,
    'def __init__(self, value, span):\n    self.value = value\n    self.span = span\n': _118,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.value,self.span,) == (other.value,other.span,)\n    return NotImplemented\n': _119,
    'def __init__(self, op, left, right, span):\n    self.op = op\n    self.left = left\n    self.right = right\n    self.span = span\n': _120,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.op,self.left,self.right,self.span,) == (other.op,other.left,other.right,other.span,)\n    return NotImplemented\n': _121,
    'def __init__(self, items, span):\n    self.items = items\n    self.span = span\n': _122,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.items,self.span,) == (other.items,other.span,)\n    return NotImplemented\n': _123,
    'def __init__(self, axes, span, dtype=_default_dtype):\n    self.axes = axes\n    self.span = span\n    self.dtype = dtype\n': _124,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.axes,self.span,self.dtype,) == (other.axes,other.span,other.dtype,)\n    return NotImplemented\n': _125,
    'def __init__(self, operand, span):\n    self.operand = operand\n    self.span = span\n': _126,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.operand,self.span,) == (other.operand,other.span,)\n    return NotImplemented\n': _127,
    'def __init__(self, start, stop, span):\n    self.start = start\n    self.stop = stop\n    self.span = span\n': _128,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.start,self.stop,self.span,) == (other.start,other.stop,other.span,)\n    return NotImplemented\n': _129,
    'def __init__(self, base, items, span):\n    self.base = base\n    self.items = items\n    self.span = span\n': _130,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.base,self.items,self.span,) == (other.base,other.items,other.span,)\n    return NotImplemented\n': _131,
    'def __init__(self, value, type, span):\n    self.value = value\n    self.type = type\n    self.span = span\n': _132,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.value,self.type,self.span,) == (other.value,other.type,other.span,)\n    return NotImplemented\n': _133,
    'def __init__(self, func, args, options, span):\n    self.func = func\n    self.args = args\n    self.options = options\n    self.span = span\n': _134,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.func,self.args,self.options,self.span,) == (other.func,other.args,other.options,other.span,)\n    return NotImplemented\n': _135,
    'def __init__(self, targets, value, span, layout=_default_layout):\n    self.targets = targets\n    self.value = value\n    self.span = span\n    self.layout = layout\n': _136,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.targets,self.value,self.span,self.layout,) == (other.targets,other.value,other.span,other.layout,)\n    return NotImplemented\n': _137,
    'def __init__(self, name, op, value, span):\n    self.name = name\n    self.op = op\n    self.value = value\n    self.span = span\n': _138,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.name,self.op,self.value,self.span,) == (other.name,other.op,other.value,other.span,)\n    return NotImplemented\n': _139,
    'def __init__(self, inputs, outputs, span):\n    self.inputs = inputs\n    self.outputs = outputs\n    self.span = span\n': _140,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.inputs,self.outputs,self.span,) == (other.inputs,other.outputs,other.span,)\n    return NotImplemented\n': _141,
    'def __init__(self, name, signature, span):\n    self.name = name\n    self.signature = signature\n    self.span = span\n': _142,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.name,self.signature,self.span,) == (other.name,other.signature,other.span,)\n    return NotImplemented\n': _143,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.name,self.type,self.span,) == (other.name,other.type,other.span,)\n    return NotImplemented\n': _144,
    'def __init__(self, name, params, results, body, span, header):\n    self.name = name\n    self.params = params\n    self.results = results\n    self.body = body\n    self.span = span\n    self.header = header\n': _145,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.name,self.params,self.results,self.body,self.span,self.header,) == (other.name,other.params,other.results,other.body,other.span,other.header,)\n    return NotImplemented\n': _146,
    'def __init__(self, name, default, span, kind=_default_kind, choices=_UNSET, kind_span=_default_kind_span, default_span=_default_default_span, pattern=_default_pattern, default_size=_default_default_size):\n    self.name = name\n    self.default = default\n    self.span = span\n    self.kind = kind\n    self.choices = _factory_choices() if choices is _UNSET else choices\n    self.kind_span = kind_span\n    self.default_span = default_span\n    self.pattern = pattern\n    self.default_size = default_size\n': _147,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.name,self.default,self.span,self.kind,self.choices,self.kind_span,self.default_span,self.pattern,self.default_size,) == (other.name,other.default,other.span,other.kind,other.choices,other.kind_span,other.default_span,other.pattern,other.default_size,)\n    return NotImplemented\n': _148,
    'def __init__(self, name, axes_in, axes_out, args, options, span):\n    self.name = name\n    self.axes_in = axes_in\n    self.axes_out = axes_out\n    self.args = args\n    self.options = options\n    self.span = span\n': _149,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.name,self.axes_in,self.axes_out,self.args,self.options,self.span,) == (other.name,other.axes_in,other.axes_out,other.args,other.options,other.span,)\n    return NotImplemented\n': _150,
    'def __init__(self, body, var, start, stop, span):\n    self.body = body\n    self.var = var\n    self.start = start\n    self.stop = stop\n    self.span = span\n': _151,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.body,self.var,self.start,self.stop,self.span,) == (other.body,other.var,other.start,other.stop,other.span,)\n    return NotImplemented\n': _152,
    'def __init__(self, name, hparams, members, methods, span, header):\n    self.name = name\n    self.hparams = hparams\n    self.members = members\n    self.methods = methods\n    self.span = span\n    self.header = header\n': _153,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.name,self.hparams,self.members,self.methods,self.span,self.header,) == (other.name,other.hparams,other.members,other.methods,other.span,other.header,)\n    return NotImplemented\n': _154,
    'def __init__(self, module, names, span):\n    self.module = module\n    self.names = names\n    self.span = span\n': _155,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.module,self.names,self.span,) == (other.module,other.names,other.span,)\n    return NotImplemented\n': _156,
    'def __init__(self, items=_UNSET, imports=_UNSET):\n    self.items = _factory_items() if items is _UNSET else items\n    self.imports = _factory_imports() if imports is _UNSET else imports\n': _157,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.items,self.imports,) == (other.items,other.imports,)\n    return NotImplemented\n': _158,
    "def __init__(self, span, text=_default_text):\n    _set(self, 'span', span)\n    _set(self, 'text', text)\n": _159,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.span,self.text,) == (other.span,other.text,)\n    return NotImplemented\n': _160,
    'def __hash__(self):\n    return hash((self.span,self.text,))\n': _161,
    'def __init__(self, code, message, span=_default_span, label=_default_label, notes=_UNSET, help=_default_help, severity=_default_severity, file=_default_file, labels=_UNSET):\n    self.code = code\n    self.message = message\n    self.span = span\n    self.label = label\n    self.notes = _factory_notes() if notes is _UNSET else notes\n    self.help = help\n    self.severity = severity\n    self.file = file\n    self.labels = _factory_labels() if labels is _UNSET else labels\n': _162,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.code,self.message,self.span,self.label,self.notes,self.help,self.severity,self.file,self.labels,) == (other.code,other.message,other.span,other.label,other.notes,other.help,other.severity,other.file,other.labels,)\n    return NotImplemented\n': _163,
    'def __init__(self, value, span, what, number=_default_number):\n    self.value = value\n    self.span = span\n    self.what = what\n    self.number = number\n': _164,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.value,self.span,self.what,self.number,) == (other.value,other.span,other.what,other.number,)\n    return NotImplemented\n': _165,
    'def __init__(self, parent=_default_parent, sizes=_UNSET, wires=_UNSET, components=_UNSET, values=_UNSET, buffers=_UNSET, later=_UNSET):\n    self.parent = parent\n    self.sizes = _factory_sizes() if sizes is _UNSET else sizes\n    self.wires = _factory_wires() if wires is _UNSET else wires\n    self.components = _factory_components() if components is _UNSET else components\n    self.values = _factory_values() if values is _UNSET else values\n    self.buffers = _factory_buffers() if buffers is _UNSET else buffers\n    self.later = _factory_later() if later is _UNSET else later\n': _166,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.parent,self.sizes,self.wires,self.components,self.values,self.buffers,self.later,) == (other.parent,other.sizes,other.wires,other.components,other.values,other.buffers,other.later,)\n    return NotImplemented\n': _167,
    "def __init__(self, inputs, outputs, bias=_default_bias, transposed=_default_transposed):\n    _set(self, 'inputs', inputs)\n    _set(self, 'outputs', outputs)\n    _set(self, 'bias', bias)\n    _set(self, 'transposed', transposed)\n": _168,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.inputs,self.outputs,self.bias,self.transposed,) == (other.inputs,other.outputs,other.bias,other.transposed,)\n    return NotImplemented\n': _169,
    'def __hash__(self):\n    return hash((self.inputs,self.outputs,self.bias,self.transposed,))\n': _170,
    "def __init__(self, channels_in, channels_out, dims, kernel, stride=_default_stride, padding=_default_padding, dilation=_default_dilation, groups=_default_groups, bias=_default_bias):\n    _set(self, 'channels_in', channels_in)\n    _set(self, 'channels_out', channels_out)\n    _set(self, 'dims', dims)\n    _set(self, 'kernel', kernel)\n    _set(self, 'stride', stride)\n    _set(self, 'padding', padding)\n    _set(self, 'dilation', dilation)\n    _set(self, 'groups', groups)\n    _set(self, 'bias', bias)\n": _171,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.channels_in,self.channels_out,self.dims,self.kernel,self.stride,self.padding,self.dilation,self.groups,self.bias,) == (other.channels_in,other.channels_out,other.dims,other.kernel,other.stride,other.padding,other.dilation,other.groups,other.bias,)\n    return NotImplemented\n': _172,
    'def __hash__(self):\n    return hash((self.channels_in,self.channels_out,self.dims,self.kernel,self.stride,self.padding,self.dilation,self.groups,self.bias,))\n': _173,
    "def __init__(self, channels_in, channels_out, dims, kernel, stride=_default_stride, padding=_default_padding, dilation=_default_dilation, groups=_default_groups, bias=_default_bias, output_padding=_default_output_padding):\n    _set(self, 'channels_in', channels_in)\n    _set(self, 'channels_out', channels_out)\n    _set(self, 'dims', dims)\n    _set(self, 'kernel', kernel)\n    _set(self, 'stride', stride)\n    _set(self, 'padding', padding)\n    _set(self, 'dilation', dilation)\n    _set(self, 'groups', groups)\n    _set(self, 'bias', bias)\n    _set(self, 'output_padding', output_padding)\n": _174,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.channels_in,self.channels_out,self.dims,self.kernel,self.stride,self.padding,self.dilation,self.groups,self.bias,self.output_padding,) == (other.channels_in,other.channels_out,other.dims,other.kernel,other.stride,other.padding,other.dilation,other.groups,other.bias,other.output_padding,)\n    return NotImplemented\n': _175,
    'def __hash__(self):\n    return hash((self.channels_in,self.channels_out,self.dims,self.kernel,self.stride,self.padding,self.dilation,self.groups,self.bias,self.output_padding,))\n': _176,
    "def __init__(self, dims, kernel, stride=_default_stride, padding=_default_padding):\n    _set(self, 'dims', dims)\n    _set(self, 'kernel', kernel)\n    _set(self, 'stride', stride)\n    _set(self, 'padding', padding)\n": _177,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.dims,self.kernel,self.stride,self.padding,) == (other.dims,other.kernel,other.stride,other.padding,)\n    return NotImplemented\n': _178,
    'def __hash__(self):\n    return hash((self.dims,self.kernel,self.stride,self.padding,))\n': _179,
    "def __init__(self, dims, output):\n    _set(self, 'dims', dims)\n    _set(self, 'output', output)\n": _180,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.dims,self.output,) == (other.dims,other.output,)\n    return NotImplemented\n': _181,
    'def __hash__(self):\n    return hash((self.dims,self.output,))\n': _182,
    "def __init__(self, channels, dims, eps=_default_eps, momentum=_default_momentum):\n    _set(self, 'channels', channels)\n    _set(self, 'dims', dims)\n    _set(self, 'eps', eps)\n    _set(self, 'momentum', momentum)\n": _183,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.channels,self.dims,self.eps,self.momentum,) == (other.channels,other.dims,other.eps,other.momentum,)\n    return NotImplemented\n': _184,
    'def __hash__(self):\n    return hash((self.channels,self.dims,self.eps,self.momentum,))\n': _185,
    "def __init__(self, axes, eps=_default_eps):\n    _set(self, 'axes', axes)\n    _set(self, 'eps', eps)\n": _186,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.axes,self.eps,) == (other.axes,other.eps,)\n    return NotImplemented\n': _187,
    'def __hash__(self):\n    return hash((self.axes,self.eps,))\n': _188,
    "def __init__(self, channels, groups, eps=_default_eps):\n    _set(self, 'channels', channels)\n    _set(self, 'groups', groups)\n    _set(self, 'eps', eps)\n": _189,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.channels,self.groups,self.eps,) == (other.channels,other.groups,other.eps,)\n    return NotImplemented\n': _190,
    'def __hash__(self):\n    return hash((self.channels,self.groups,self.eps,))\n': _191,
    "def __init__(self, p=_default_p):\n    _set(self, 'p', p)\n": _192,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.p,) == (other.p,)\n    return NotImplemented\n': _193,
    'def __hash__(self):\n    return hash((self.p,))\n': _194,
    "def __init__(self, count, dim):\n    _set(self, 'count', count)\n    _set(self, 'dim', dim)\n": _195,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.count,self.dim,) == (other.count,other.dim,)\n    return NotImplemented\n': _196,
    'def __hash__(self):\n    return hash((self.count,self.dim,))\n': _197,
    "def __init__(self, type, std=_default_std):\n    _set(self, 'type', type)\n    _set(self, 'std', std)\n": _198,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.type,self.std,) == (other.type,other.std,)\n    return NotImplemented\n': _199,
    'def __hash__(self):\n    return hash((self.type,self.std,))\n': _200,
    "def __init__(self, conditions, reason, option=_default_option):\n    _set(self, 'conditions', conditions)\n    _set(self, 'reason', reason)\n    _set(self, 'option', option)\n": _201,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.conditions,self.reason,self.option,) == (other.conditions,other.reason,other.option,)\n    return NotImplemented\n': _202,
    'def __hash__(self):\n    return hash((self.conditions,self.reason,self.option,))\n': _203,
    "def __init__(self, name, attrs, check, fixed_rank=_default_fixed_rank, requires=_default_requires):\n    _set(self, 'name', name)\n    _set(self, 'attrs', attrs)\n    _set(self, 'check', check)\n    _set(self, 'fixed_rank', fixed_rank)\n    _set(self, 'requires', requires)\n": _204,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.name,self.attrs,self.check,self.fixed_rank,self.requires,) == (other.name,other.attrs,other.check,other.fixed_rank,other.requires,)\n    return NotImplemented\n': _205,
    'def __hash__(self):\n    return hash((self.name,self.attrs,self.check,self.fixed_rank,self.requires,))\n': _206,
    "def __init__(self, name, family, node, check, on_numbers=_default_on_numbers, accepts=_default_accepts):\n    _set(self, 'name', name)\n    _set(self, 'family', family)\n    _set(self, 'node', node)\n    _set(self, 'check', check)\n    _set(self, 'on_numbers', on_numbers)\n    _set(self, 'accepts', accepts)\n": _207,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.name,self.family,self.node,self.check,self.on_numbers,self.accepts,) == (other.name,other.family,other.node,other.check,other.on_numbers,other.accepts,)\n    return NotImplemented\n': _208,
    'def __hash__(self):\n    return hash((self.name,self.family,self.node,self.check,self.on_numbers,self.accepts,))\n': _209,
    'def __init__(self, reason, expected, actual):\n    self.reason = reason\n    self.expected = expected\n    self.actual = actual\n': _210,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.reason,self.expected,self.actual,) == (other.reason,other.expected,other.actual,)\n    return NotImplemented\n': _211,
    'def __init__(self, solver):\n    self.solver = solver\n': _212,
    'def __eq__(self, other):\n    if other.__class__ is self.__class__:\n        return (self.solver,) == (other.solver,)\n    return NotImplemented\n': _213,
}

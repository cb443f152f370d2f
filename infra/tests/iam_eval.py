"""IAM policy evaluation for the deploy-role checks (moto has no simulate-principal-policy).

The subset of AWS's evaluation logic that our policies use: Allow/Deny, Action/NotAction,
Resource/NotResource with `*` and `?` wildcards, and the condition operators String*, Arn*,
Bool and Null (with ForAnyValue:/ForAllValues: and IfExists). An explicit Deny wins; without an
Allow the request is denied; a permissions boundary must allow it too.
"""

import re

NEGATED = {"StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike"}


def _as_list(v):
    return v if isinstance(v, list) else [v]


def _wild(pattern, value, ignore_case=False):
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, value, re.IGNORECASE if ignore_case else 0) is not None


def _compare(op, want, have):
    if op in ("StringEquals", "StringNotEquals", "ArnEquals", "ArnNotEquals"):
        return want == have
    if op in ("StringEqualsIgnoreCase",):
        return want.lower() == have.lower()
    if op in ("StringLike", "StringNotLike", "ArnLike", "ArnNotLike"):
        return _wild(want, have)
    if op == "Bool":
        return str(want).lower() == str(have).lower()
    raise ValueError(f"condition operator {op} is not supported by this evaluator")


def _condition(op, key, wants, context):
    qualifier, _, op = op.rpartition(":")
    if_exists = op.endswith("IfExists")
    op = op.removesuffix("IfExists")
    have = context.get(key)
    if op == "Null":
        return all((have is None) == (str(w).lower() == "true") for w in _as_list(wants))
    if have is None:
        return if_exists or op in NEGATED
    haves = _as_list(have)
    wants = [str(w) for w in _as_list(wants)]
    hit = lambda h: any(_compare(op, w, h) for w in wants)  # noqa: E731
    if op in NEGATED:
        return not any(hit(h) for h in haves)
    if qualifier == "ForAllValues":
        return all(hit(h) for h in haves)
    return any(hit(h) for h in haves)


def _applies(st, action, resource, context):
    if "Action" in st:
        if not any(_wild(a, action, ignore_case=True) for a in _as_list(st["Action"])):
            return False
    elif any(_wild(a, action, ignore_case=True) for a in _as_list(st["NotAction"])):
        return False
    if "Resource" in st:
        if not any(_wild(r, resource) for r in _as_list(st["Resource"])):
            return False
    elif "NotResource" in st and any(_wild(r, resource) for r in _as_list(st["NotResource"])):
        return False
    for op, kv in st.get("Condition", {}).items():
        for key, wants in kv.items():
            if not _condition(op, key, wants, context):
                return False
    return True


def decide(policies, action, resource, context=None):
    """'allow', 'deny' (an explicit Deny) or 'implicit' (no statement allows it)."""
    context = context or {}
    statements = [st for p in policies for st in _as_list(p["Statement"])]
    if any(st["Effect"] == "Deny" and _applies(st, action, resource, context) for st in statements):
        return "deny"
    if any(st["Effect"] == "Allow" and _applies(st, action, resource, context) for st in statements):
        return "allow"
    return "implicit"


def allowed(policies, action, resource, context=None, boundary=None):
    """Whether a principal with these identity policies (and boundary, if any) may do it."""
    if decide(policies, action, resource, context) != "allow":
        return False
    return boundary is None or decide([boundary], action, resource, context) == "allow"

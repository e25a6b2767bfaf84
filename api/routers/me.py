"""``/api/v1/me``: who the key in the request is (its holder's name and role), and which
layers it may read.

The portal shows this beside the key box ("规划 · 张三"), the way the provincial one-map
systems show the signed-in user: "已设置密钥" alone did not tell a planner whether they had
pasted the forestry colleague's key. The answer is computed from the authenticated
principal only; an unknown or revoked key gets the same 401 as everywhere else.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.auth import PrincipalDep, readable_layers
from gis.messages import label, negotiate

router = APIRouter(tags=["auth"])


@router.get("/me", summary="The caller: key name, role and readable layers")
async def me(request: Request, principal: PrincipalDep) -> dict:
    lang = negotiate(request.headers.get("accept-language"))
    return {
        "name": None if principal.anonymous else principal.name,
        "role": principal.role,
        "role_label": label("role", principal.role, lang),
        "anonymous": principal.anonymous,
        "layers": [layer.id for layer in readable_layers(principal, request.app.state.settings)],
    }

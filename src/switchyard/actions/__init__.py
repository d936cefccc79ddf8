"""Actions: the SDK to write them and the registry that finds them.

Importing this package is cheap and has no side effect: the built-in
catalogue (`BUILTIN_MODULES`) is imported on the first `get_action` /
`all_actions` call, or by `load_builtins()` at worker start-up.
"""

from switchyard.actions.sdk import (
    BUILTIN_MODULES,
    REST_ERRORS,
    ActionContext,
    ActionFunc,
    ActionProvider,
    ActionSpec,
    ErrorRule,
    action,
    action_types,
    all_actions,
    get_action,
    is_template,
    load_builtins,
    load_plugins,
    mask_secrets,
    register_provider,
    validate_params,
)

__all__ = [
    "BUILTIN_MODULES",
    "REST_ERRORS",
    "ActionContext",
    "ActionFunc",
    "ActionProvider",
    "ActionSpec",
    "ErrorRule",
    "action",
    "action_types",
    "all_actions",
    "get_action",
    "is_template",
    "load_builtins",
    "load_plugins",
    "mask_secrets",
    "register_provider",
    "validate_params",
]

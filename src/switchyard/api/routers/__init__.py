"""One router module per resource (listed in `switchyard.api.app.ROUTERS`)."""

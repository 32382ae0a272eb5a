"""ThingsBoard services, one module per resource."""

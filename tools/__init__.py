"""Tools run beside the Pulumi program, never by `pulumi up` itself."""

"""FluxiLab tests."""

"""Typed, documented, validated run configuration."""

from rimmodel.config.loading import (apply_override, config_from_dict, config_to_dict, config_to_toml,
                                     load_config)
from rimmodel.config.parameters import ModelConfig
from rimmodel.config.spec import ConfigError

__all__ = ["ConfigError", "ModelConfig", "apply_override", "config_from_dict", "config_to_dict",
           "config_to_toml", "load_config"]

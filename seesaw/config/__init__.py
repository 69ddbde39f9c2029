"""Seesaw's two config files, read, checked and resolved.

    model, settings    the values the rest of the house uses (model.Cluster, settings.Settings)
    cluster            cluster.pb (text, or binary from a config server) -> model.Cluster
      locate           field path -> line:col in the text, for messages
      validate         every semantic rule, all problems at once
      convert          proto -> model, exactly as Seesaw v2 maps it (pure)
      addresses        strict parsing of CIDR strings
    seesaw_cfg         seesaw.cfg (INI) -> settings.Settings
    node_check         rules that need both files (is this node in cluster.pb?)
    check              `seesaw config check [FILE]`
    errors, files      Problem (file:line:col: field: reason), ConfigError; reading a file as text

Only reading files happens here; nothing is applied.
"""

from seesaw.config.check import CheckReport, check_config, run_config_check
from seesaw.config.cluster import (
    ParsedCluster,
    cluster_from_bytes,
    load_cluster_file,
    parse_cluster_text,
    read_cluster_bytes,
    read_cluster_file,
    read_cluster_text,
    read_healthcheck_text,
)
from seesaw.config.convert import cluster_from_proto, healthcheck_from_proto
from seesaw.config.errors import ConfigError, Problem, Severity
from seesaw.config.node_check import check_node
from seesaw.config.seesaw_cfg import ParsedSettings, load_settings, parse_settings_text, read_settings_file

__all__ = [
    "CheckReport",
    "ConfigError",
    "ParsedCluster",
    "ParsedSettings",
    "Problem",
    "Severity",
    "check_config",
    "check_node",
    "cluster_from_bytes",
    "cluster_from_proto",
    "healthcheck_from_proto",
    "load_cluster_file",
    "load_settings",
    "parse_cluster_text",
    "parse_settings_text",
    "read_cluster_bytes",
    "read_cluster_file",
    "read_cluster_text",
    "read_healthcheck_text",
    "read_settings_file",
    "run_config_check",
]

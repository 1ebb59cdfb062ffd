#!/usr/bin/env python3
"""Parses Prometheus text exposition from stdin with the official Python client's parser
(prometheus_client, installed by scripts/bootstrap.sh) and prints its samples as JSON:
[{"family", "type", "help", "name", "labels", "value"}]. Exits non-zero on any line the
parser rejects, and on a sample whose family has no TYPE (a name that drifted from its
TYPE line), so a test can trust what it reads."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

samples = []
for family in text_string_to_metric_families(sys.stdin.read()):
    if family.type == "unknown":
        sys.exit(f"sample {family.name} has no TYPE line of its own")
    for sample in family.samples:
        samples.append({
            "family": family.name,
            "type": family.type,
            "help": family.documentation,
            "name": sample.name,
            "labels": sample.labels,
            "value": sample.value,
        })
json.dump(samples, sys.stdout)

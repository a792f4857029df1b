#!/usr/bin/env python3
"""Parses Prometheus text exposition from stdin with the prometheus_client package's own parser (not ours).

Prints one line per metric family: NAME TYPE SAMPLES. Exits 1 with the parser's message if the text is not
valid exposition format, 2 if prometheus_client is not installed.
"""
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError as e:
    print("prometheus_client is not installed: " + str(e), file=sys.stderr)
    sys.exit(2)

text = sys.stdin.read()
try:
    for family in text_string_to_metric_families(text):
        print(family.name, family.type, len(family.samples))
except Exception as e:  # the parser raises ValueError and others on malformed input
    print("not valid Prometheus text format: " + repr(e), file=sys.stderr)
    sys.exit(1)

package dev.meshauth.agent.cli;

import dev.meshauth.agent.status.Render;

/** {@code -o table|json|yaml} of every command that prints data. JSON and YAML carry the same fields. */
enum OutputFormat {
    table, json, yaml;

    /** {@code value} as indented JSON. */
    static String json(Object value) {
        return Render.json(value);
    }

    /** {@code value} as block YAML, the same tree as its JSON. */
    static String yaml(Object value) {
        return Render.yaml(value);
    }
}

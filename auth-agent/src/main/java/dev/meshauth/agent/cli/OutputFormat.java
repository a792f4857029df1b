package dev.meshauth.agent.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.meshauth.agent.status.Json;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/** {@code -o table|json|yaml} of every command that prints data. JSON and YAML carry the same fields. */
enum OutputFormat {
    table, json, yaml;

    /** {@code value} as indented JSON. */
    static String json(Object value) {
        try {
            return Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("rendering JSON failed", e);
        }
    }

    /** {@code value} as one line of JSON (streams). */
    static String jsonLine(Object value) {
        try {
            return Json.MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("rendering JSON failed", e);
        }
    }

    /** {@code value} as block YAML, the same tree as its JSON. */
    static String yaml(Object value) {
        DumperOptions o = new DumperOptions();
        o.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        o.setIndicatorIndent(0);
        return new Yaml(o).dump(Json.MAPPER.convertValue(value, Object.class));
    }
}

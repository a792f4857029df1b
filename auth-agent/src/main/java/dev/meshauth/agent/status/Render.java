package dev.meshauth.agent.status;

import com.fasterxml.jackson.core.JsonProcessingException;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/** A value as {@code -o json} and {@code -o yaml} print it: JSON and YAML carry the same fields. */
public final class Render {
    private Render() {
    }

    /** {@code value} as indented JSON. */
    public static String json(Object value) {
        try {
            return Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("rendering JSON failed", e);
        }
    }

    /** {@code value} as one line of JSON (streams). */
    public static String jsonLine(Object value) {
        try {
            return Json.MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("rendering JSON failed", e);
        }
    }

    /** {@code value} as block YAML, the same tree as its JSON. */
    public static String yaml(Object value) {
        DumperOptions o = new DumperOptions();
        o.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        o.setIndicatorIndent(0);
        return new Yaml(o).dump(Json.MAPPER.convertValue(value, Object.class));
    }
}

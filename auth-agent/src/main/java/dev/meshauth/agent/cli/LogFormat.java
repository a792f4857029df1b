package dev.meshauth.agent.cli;

import java.util.Locale;

/** {@code --log-format}: how long-running commands log. */
enum LogFormat {
    /** logback.xml's pattern, key-value pairs after the message. */
    TEXT,
    /** One JSON object per line (logback's JsonEncoder). */
    JSON;

    /** As the flag spells it. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}

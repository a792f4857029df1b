package dev.meshauth.agent.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.meshauth.bpf.auth.AuthEntry;

import java.util.List;

/**
 * JSON form of the auth map: a list of {@code {localIdentity, remoteIdentity, remoteNodeId, authType,
 * expiration}}, expiration in RFC 3339 UTC with the map's full 512 ns precision.
 */
final class AuthEntryJson {
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** One entry as printed. */
    record View(long localIdentity, long remoteIdentity, int remoteNodeId, String authType, String expiration) {
        static View of(AuthEntry e) {
            return new View(e.key().localIdentity(), e.key().remoteIdentity(), e.key().remoteNodeId(),
                    e.key().authType().toString(), e.info().expiresAt().toString());
        }
    }

    private AuthEntryJson() {
    }

    static List<View> rows(List<AuthEntry> entries) {
        return entries.stream().map(View::of).toList();
    }

    static String render(List<AuthEntry> entries) {
        try {
            return MAPPER.writeValueAsString(entries.stream().map(View::of).toList());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render auth entries as JSON", e);
        }
    }
}

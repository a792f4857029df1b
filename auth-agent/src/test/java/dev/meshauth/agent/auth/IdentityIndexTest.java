package dev.meshauth.agent.auth;

import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class IdentityIndexTest {
    private static final AuthKey A = new AuthKey(1000, 2000, 2, AuthType.SPIRE);
    private static final AuthKey B = new AuthKey(2000, 3000, 1, AuthType.SPIRE);

    @Test
    void findsAKeyByEitherIdentityUntilItIsRemoved() {
        IdentityIndex index = IdentityIndex.of(List.of(A, B));
        assertThat(index.involving(2000)).containsExactlyInAnyOrder(A, B);
        assertThat(index.involving(1000)).containsExactly(A);
        assertThat(index.involving(4000)).isEmpty();
        index.remove(A);
        assertThat(index.involving(2000)).containsExactly(B);
        assertThat(index.involving(1000)).isEmpty();
        index.add(A);
        index.add(A);
        index.remove(A);
        assertThat(index.involving(1000)).as("a set, not a count").isEmpty();
    }
}

package dev.meshauth.agent.events;

/**
 * Why an authentication failed: the one vocabulary of handshake and manager outcomes. The {@code reason}
 * label of the handshake metric, the events and the status API come from it, never from an exception's
 * class name.
 */
public enum FailureReason {
    /** This node holds no SVID for the local identity. */
    NO_LOCAL_SVID,
    /** TCP connect failed or timed out. */
    CONNECT_FAILED,
    /** The peer's certificate broke a rule (chain, SPIFFE ID, profile, expiry). */
    PEER_CERTIFICATE,
    /** The peer refused us: it has no SVID for the requested identity, or rejected our certificate. */
    PEER_REFUSED,
    /** No verdict from the peer in time. */
    TIMEOUT,
    /** Any other TLS failure. */
    TLS,
    /** The remote node id is not among the known nodes. */
    UNKNOWN_NODE,
    /** The auth type is neither spire (1) nor test-always-fail (2). */
    UNKNOWN_AUTH_TYPE,
    /** Auth type test-always-fail: never succeeds, by design. */
    TEST_ALWAYS_FAIL,
    /** SPIRE removed an SVID of the pair (before or during the handshake). */
    SVID_REMOVED,
    /** Writing the kernel auth map failed. */
    AUTH_MAP_WRITE,
    /** The handshake failed in a way none of the above names (a bug: the detail says what). */
    INTERNAL;

    /** The label used in metrics, events and JSON: lower case with dashes. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}

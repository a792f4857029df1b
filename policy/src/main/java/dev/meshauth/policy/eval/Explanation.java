package dev.meshauth.policy.eval;

import dev.meshauth.policy.model.AuthType;
import dev.meshauth.policy.model.Direction;

/**
 * One line of {@code meshauth policy explain}: traffic from one endpoint to another, on one port and
 * protocol, and what the policies demand of it.
 *
 * @param from      sending endpoint name
 * @param to        receiving endpoint name
 * @param direction INGRESS if the rule is on the receiver, EGRESS if on the sender
 * @param port      destination port, 0 for "any other port"
 * @param protocol  "TCP" or "UDP"
 * @param verdict   "allow", "deny", or "allow+auth"
 * @param authType  authentication demanded, DISABLED if none
 * @param policy    the rules behind the verdict
 */
public record Explanation(String from, String to, Direction direction, int port, String protocol, String verdict,
        AuthType authType, String policy) {
}

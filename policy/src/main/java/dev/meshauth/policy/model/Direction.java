package dev.meshauth.policy.model;

/** Which way a rule looks from the endpoint it selects. */
public enum Direction {
    /** Traffic into the selected endpoint. */
    INGRESS,
    /** Traffic out of the selected endpoint. */
    EGRESS
}

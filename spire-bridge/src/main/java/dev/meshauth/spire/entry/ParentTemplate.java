package dev.meshauth.spire.entry;

import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The parent ID of a node's identity entries, as a template over the node: {@code {trustDomain}},
 * {@code {nodeName}}, {@code {nodeUID}} and {@code {clusterName}}. It names either the node's SPIRE agent
 * itself ({@code k8s_psat}: {@code spiffe://{trustDomain}/spire/agent/k8s_psat/{clusterName}/{nodeUID}})
 * or an alias entry made for the node ({@code join_token} agents attested with
 * {@code spire-server token generate -spiffeID spiffe://{trustDomain}/node/{nodeName}}). Entries parented
 * to it reach that node's agent and no other.
 *
 * @param template    the template text
 * @param trustDomain the trust domain the parent must be in
 * @param clusterName the value of {@code {clusterName}}
 */
public record ParentTemplate(String template, TrustDomain trustDomain, String clusterName) {
    /** What Kubernetes clusters attested with {@code k8s_psat} use (SPIRE's agent ID for the node). */
    public static final String K8S_PSAT = "spiffe://{trustDomain}/spire/agent/k8s_psat/{clusterName}/{nodeUID}";
    /** A per-node alias, as {@code spire-server token generate -spiffeID} makes for a join-token agent. */
    public static final String NODE_ALIAS = "spiffe://{trustDomain}/node/{nodeName}";
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([^{}]*)}");
    private static final List<String> NAMES = List.of("trustDomain", "nodeName", "nodeUID", "clusterName");
    /** What a placeholder may expand to: one path segment (SPIFFE's segment characters). */
    private static final String SEGMENT = "[A-Za-z0-9._-]+";

    /**
     * Checks the template: only the four placeholders, no stray brace, and what it renders for a sample
     * node is a SPIFFE ID in {@code trustDomain}.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public ParentTemplate {
        Matcher m = PLACEHOLDER.matcher(template);
        while (m.find()) {
            if (!NAMES.contains(m.group(1))) {
                throw new IllegalArgumentException("parent template " + template + ": unknown placeholder {" + m.group(1)
                        + "}; known: {trustDomain}, {nodeName}, {nodeUID}, {clusterName}");
            }
        }
        if (PLACEHOLDER.matcher(template).replaceAll("").matches(".*[{}].*")) {
            throw new IllegalArgumentException("parent template " + template + ": unbalanced brace");
        }
        if (!template.contains("{nodeName}") && !template.contains("{nodeUID}")) {
            throw new IllegalArgumentException("parent template " + template + " names no node ({nodeName} or {nodeUID}):"
                    + " every node would get the same parent; that is the cluster-wide layout (--registration cluster)");
        }
        if (template.contains("{clusterName}") && !clusterName.matches(SEGMENT)) {
            throw new IllegalArgumentException("cluster name '" + clusterName + "' cannot be a SPIFFE ID path segment");
        }
        SpiffeId sample;
        try {
            sample = SpiffeId.parse(expand(template, trustDomain, "node-a", "0000-uid", clusterName));
        } catch (io.spiffe.exception.InvalidSpiffeIdException | IllegalArgumentException e) {
            throw new IllegalArgumentException("parent template " + template + " does not render a SPIFFE ID: " + e.getMessage(), e);
        }
        if (!sample.getTrustDomain().equals(trustDomain)) {
            throw new IllegalArgumentException("parent template " + template + " renders " + sample + ", outside trust domain "
                    + trustDomain.getName());
        }
    }

    private static String expand(String template, TrustDomain td, String name, String uid, String cluster) {
        return template.replace("{trustDomain}", td.getName()).replace("{nodeName}", name).replace("{nodeUID}", uid)
                .replace("{clusterName}", cluster);
    }

    /** True if the template needs node UIDs (sources that know only names cannot fill it). */
    public boolean needsUid() {
        return template.contains("{nodeUID}");
    }

    /**
     * The parent of {@code node}'s entries.
     *
     * @throws IllegalArgumentException if the template needs the node's UID and the source does not know it,
     *                                  or a value is not a path segment
     */
    public SpiffeId parentOf(NodeRef node) {
        if (needsUid() && node.uid().isEmpty()) {
            throw new IllegalArgumentException("parent template " + template + " needs the UID of node " + node.name()
                    + ", which the source does not know");
        }
        String uid = node.uid().orElse("");
        for (String v : needsUid() ? List.of(node.name(), uid) : List.of(node.name())) {
            if (!v.matches(SEGMENT)) {
                throw new IllegalArgumentException("node value '" + v + "' cannot be a SPIFFE ID path segment");
            }
        }
        return SpiffeId.parse(expand(template, trustDomain, node.name(), uid, clusterName));
    }

    /** True if {@code parent} is one this template renders, for some node. */
    public boolean renders(SpiffeId parent) {
        return regex().matcher(parent.toString()).matches();
    }

    private Pattern regex() {
        List<String> parts = new ArrayList<>();
        Matcher m = PLACEHOLDER.matcher(template);
        int at = 0;
        while (m.find()) {
            parts.add(Pattern.quote(template.substring(at, m.start())));
            parts.add(switch (m.group(1)) {
                case "trustDomain" -> Pattern.quote(trustDomain.getName());
                case "clusterName" -> Pattern.quote(clusterName);
                default -> SEGMENT;
            });
            at = m.end();
        }
        parts.add(Pattern.quote(template.substring(at)));
        return Pattern.compile(String.join("", parts));
    }
}

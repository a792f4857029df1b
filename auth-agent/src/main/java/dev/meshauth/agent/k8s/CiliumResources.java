package dev.meshauth.agent.k8s;

import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;

/**
 * Cilium's custom resources, read as generic resources so objects from newer Cilium versions (fields
 * we do not know) still load; the fields we need are read and checked by our own code.
 */
public final class CiliumResources {
    /** CiliumNetworkPolicy (namespaced). */
    public static final ResourceDefinitionContext NETWORK_POLICY = context("CiliumNetworkPolicy",
            "ciliumnetworkpolicies", true);
    /** CiliumClusterwideNetworkPolicy. */
    public static final ResourceDefinitionContext CLUSTERWIDE_POLICY = context("CiliumClusterwideNetworkPolicy",
            "ciliumclusterwidenetworkpolicies", false);
    /** CiliumIdentity: metadata.name is the numeric identity, security-labels its labels. */
    public static final ResourceDefinitionContext IDENTITY = context("CiliumIdentity", "ciliumidentities", false);

    /** CiliumEndpoint (namespaced): status.identity.id, status.networking.addressing[].ipv4, status.networking.node. */
    public static final ResourceDefinitionContext ENDPOINT = context("CiliumEndpoint", "ciliumendpoints", true);
    /** CiliumNode: spec.addresses[] of {type, ip}. */
    public static final ResourceDefinitionContext NODE = context("CiliumNode", "ciliumnodes", false);

    private CiliumResources() {
    }

    private static ResourceDefinitionContext context(String kind, String plural, boolean namespaced) {
        return new ResourceDefinitionContext.Builder().withGroup("cilium.io").withVersion("v2").withKind(kind)
                .withPlural(plural).withNamespaced(namespaced).build();
    }
}

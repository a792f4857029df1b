package dev.meshauth.spire.entry;

import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The node parent template: what it renders, what it recognises as its own, what it refuses. */
class ParentTemplateTest {
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");

    @Test
    void rendersK8sPsatAgentIdsAndNodeAliases() {
        ParentTemplate psat = new ParentTemplate(ParentTemplate.K8S_PSAT, TD, "prod-eu");
        NodeRef node = new NodeRef("worker-1", Optional.of("4f5c9a0e-1b2c-4d3e-8f90-123456789abc"));
        assertThat(psat.parentOf(node)).isEqualTo(SpiffeId.parse(
                "spiffe://spiffe.cilium/spire/agent/k8s_psat/prod-eu/4f5c9a0e-1b2c-4d3e-8f90-123456789abc"));
        ParentTemplate alias = new ParentTemplate(ParentTemplate.NODE_ALIAS, TD, "default");
        assertThat(alias.parentOf(NodeRef.named("node-1"))).isEqualTo(SpiffeId.parse("spiffe://spiffe.cilium/node/node-1"));
    }

    @Test
    void recognisesOnlyParentsItRenders() {
        ParentTemplate psat = new ParentTemplate(ParentTemplate.K8S_PSAT, TD, "prod-eu");
        assertThat(psat.renders(SpiffeId.parse("spiffe://spiffe.cilium/spire/agent/k8s_psat/prod-eu/abc-1"))).isTrue();
        assertThat(psat.renders(SpiffeId.parse("spiffe://spiffe.cilium/spire/agent/k8s_psat/other/abc-1")))
                .as("another cluster's agents").isFalse();
        assertThat(psat.renders(SpiffeId.parse("spiffe://spiffe.cilium/spire/agent/k8s_psat/prod-eu/abc/extra"))).isFalse();
        assertThat(psat.renders(SpiffeId.parse("spiffe://spiffe.cilium/cilium-operator"))).isFalse();
        ParentTemplate alias = new ParentTemplate(ParentTemplate.NODE_ALIAS, TD, "default");
        assertThat(alias.renders(SpiffeId.parse("spiffe://spiffe.cilium/node/node-7"))).isTrue();
        assertThat(alias.renders(SpiffeId.parse("spiffe://spiffe.cilium/nodes/node-7"))).isFalse();
    }

    @Test
    void refusesTemplatesThatCannotWork() {
        assertThatThrownBy(() -> new ParentTemplate("spiffe://{trustDomain}/node/{node}", TD, "c"))
                .hasMessageContaining("unknown placeholder {node}");
        assertThatThrownBy(() -> new ParentTemplate("spiffe://{trustDomain}/node/{nodeName", TD, "c"))
                .hasMessageContaining("unbalanced brace");
        assertThatThrownBy(() -> new ParentTemplate("spiffe://{trustDomain}/cilium-operator", TD, "c"))
                .hasMessageContaining("names no node").hasMessageContaining("--registration cluster");
        assertThatThrownBy(() -> new ParentTemplate("spiffe://example.org/node/{nodeName}", TD, "c"))
                .hasMessageContaining("outside trust domain spiffe.cilium");
        assertThatThrownBy(() -> new ParentTemplate("node/{nodeName}", TD, "c")).hasMessageContaining("does not render a SPIFFE ID");
        assertThatThrownBy(() -> new ParentTemplate(ParentTemplate.K8S_PSAT, TD, "my cluster"))
                .hasMessageContaining("cluster name 'my cluster'");
    }

    @Test
    void aNodeTheTemplateCannotNameIsAClearError() {
        ParentTemplate psat = new ParentTemplate(ParentTemplate.K8S_PSAT, TD, "c");
        assertThatThrownBy(() -> psat.parentOf(NodeRef.named("worker-1"))).hasMessageContaining("needs the UID of node worker-1");
        ParentTemplate alias = new ParentTemplate(ParentTemplate.NODE_ALIAS, TD, "c");
        assertThatThrownBy(() -> alias.parentOf(NodeRef.named("a/b"))).hasMessageContaining("'a/b' cannot be a SPIFFE ID path segment");
    }

    @Test
    void aNodeWithoutTheUidTheTemplateNeedsGetsNoEntriesAndHoldsNoOtherBack() {
        EntryLayout layout = new EntryLayout.NodeScoped(new ParentTemplate(ParentTemplate.K8S_PSAT, TD, "c"),
                SpiffeId.parse("spiffe://spiffe.cilium/cilium-operator"));
        NodeRef known = new NodeRef("worker-1", Optional.of("uid-1"));
        assertThat(layout.registrations(java.util.Map.of(1001L, java.util.Set.of(known, NodeRef.named("worker-2")))))
                .containsExactly(new Registration(1001, SpiffeId.parse("spiffe://spiffe.cilium/spire/agent/k8s_psat/c/uid-1")));
    }
}

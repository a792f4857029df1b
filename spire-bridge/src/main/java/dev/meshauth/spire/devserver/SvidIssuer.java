package dev.meshauth.spire.devserver;

import io.spiffe.spiffeid.SpiffeId;
import spire.api.types.EntryOuterClass.Entry;

import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Issues and rotates the X509-SVIDs of the dev server's entries: one key pair and certificate per entry,
 * re-issued at half-life (SPIRE agents rotate at half of the TTL), dropped when the entry goes.
 */
public final class SvidIssuer {
    /** One issued SVID. */
    public record Issued(String entryId, SpiffeId spiffeId, KeyPair keyPair, X509Certificate certificate,
            Instant issuedAt, String hint) {
        Instant rotateAt() {
            Instant notAfter = certificate.getNotAfter().toInstant();
            return issuedAt.plus(Duration.between(issuedAt, notAfter).dividedBy(2));
        }
    }

    private volatile DevCa ca;
    private final Duration defaultTtl;
    private final InstantSource clock;
    private final Map<String, Issued> issued = new HashMap<>(); // @GuardedBy("this")

    /** Issues with {@code ca}, {@code defaultTtl} unless an entry sets x509_svid_ttl. */
    public SvidIssuer(DevCa ca, Duration defaultTtl, InstantSource clock) {
        this.ca = ca;
        this.defaultTtl = defaultTtl;
        this.clock = clock;
    }

    /** The current SVIDs for {@code entries}, issuing any that are missing or were for another ID. */
    public synchronized List<Issued> forEntries(List<Entry> entries) {
        return entries.stream().map(this::current).toList();
    }

    private Issued current(Entry e) {
        SpiffeId id = SpiffeId.parse("spiffe://" + e.getSpiffeId().getTrustDomain() + e.getSpiffeId().getPath());
        Issued cur = issued.get(e.getId());
        if (cur == null || !cur.spiffeId().equals(id) || !cur.hint().equals(e.getHint())) {
            cur = issue(e, id);
            issued.put(e.getId(), cur);
        }
        return cur;
    }

    private Issued issue(Entry e, SpiffeId id) {
        Instant now = clock.instant();
        Duration ttl = e.getX509SvidTtl() > 0 ? Duration.ofSeconds(e.getX509SvidTtl()) : defaultTtl;
        KeyPair kp = CertificateMinter.newKeyPair();
        return new Issued(e.getId(), id, kp, ca.issue(id, kp.getPublic(), now, ttl), now, e.getHint());
    }

    /**
     * Forgets SVIDs of entries that no longer exist and re-issues those past half-life.
     *
     * @return true if anything changed (streams must send a new full state)
     */
    public synchronized boolean rotateDue(List<Entry> entries) {
        Instant now = clock.instant();
        Set<String> live = entries.stream().map(Entry::getId).collect(Collectors.toSet());
        boolean changed = issued.keySet().retainAll(live);
        for (Entry e : entries) {
            Issued cur = issued.get(e.getId());
            if (cur != null && !now.isBefore(cur.rotateAt())) {
                issued.put(e.getId(), issue(e, cur.spiffeId()));
                changed = true;
            }
        }
        return changed;
    }

    /** The CA. */
    public DevCa ca() {
        return ca;
    }

    /** The clock it issues by. */
    InstantSource clock() {
        return clock;
    }

    /**
     * Revocation of the CA: {@code next} signs from now on and is the bundle's only root, and every SVID
     * is re-issued by it at the next full state (the old ones no longer chain to the bundle).
     */
    public synchronized void replaceCa(DevCa next) {
        ca = next;
        issued.clear();
    }
}

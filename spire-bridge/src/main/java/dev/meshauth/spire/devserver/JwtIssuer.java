package dev.meshauth.spire.devserver;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.spiffe.spiffeid.SpiffeId;

import java.security.KeyPair;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Date;
import java.util.List;
import java.util.Map;

/**
 * JWT-SVIDs (ES256) and the JWKS bundle that verifies them. The signing key lives as long as the
 * process: JWT-SVIDs are short-lived, and a restarted dev server issues new ones.
 */
public final class JwtIssuer {
    private final KeyPair key = CertificateMinter.newKeyPair();
    private final String keyId;
    private final Duration ttl;
    private final InstantSource clock;

    /** Signs tokens valid for {@code ttl}. */
    public JwtIssuer(Duration ttl, InstantSource clock) {
        this.ttl = ttl;
        this.clock = clock;
        try {
            this.keyId = new ECKey.Builder(Curve.P_256, (ECPublicKey) key.getPublic()).build().computeThumbprint().toString();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A signed JWT-SVID for {@code id} and {@code audience}. */
    public String sign(SpiffeId id, List<String> audience) {
        Instant now = clock.instant();
        JWTClaimsSet claims = new JWTClaimsSet.Builder().subject(id.toString()).audience(audience)
                .issueTime(Date.from(now)).expirationTime(Date.from(now.plus(ttl))).build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(keyId).type(JOSEObjectType.JWT).build(),
                claims);
        try {
            jwt.sign(new ECDSASigner((ECPrivateKey) key.getPrivate()));
        } catch (JOSEException e) {
            throw new IllegalStateException("signing a JWT-SVID failed", e);
        }
        return jwt.serialize();
    }

    /** Expiry of tokens signed now. */
    public Instant expiry() {
        return clock.instant().plus(ttl);
    }

    /** The JWKS document, SPIRE-style (use "jwt-svid"). */
    public byte[] jwks() {
        ECKey jwk = new ECKey.Builder(Curve.P_256, (ECPublicKey) key.getPublic()).keyID(keyId)
                .keyUse(new KeyUse("jwt-svid")).build();
        return new JWKSet(jwk).toString(true).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** A verified token's subject and claims. */
    public record Validated(String subject, Map<String, Object> claims) {
    }

    /**
     * Verifies signature, audience and expiry.
     *
     * @throws IllegalArgumentException saying what is wrong with the token
     */
    public Validated validate(String token, String audience) {
        try {
            SignedJWT jwt = SignedJWT.parse(token);
            if (!jwt.verify(new ECDSAVerifier((ECPublicKey) key.getPublic()))) {
                throw new IllegalArgumentException("signature does not verify");
            }
            JWTClaimsSet c = jwt.getJWTClaimsSet();
            if (c.getAudience() == null || !c.getAudience().contains(audience)) {
                throw new IllegalArgumentException("audience " + c.getAudience() + " does not contain " + audience);
            }
            if (c.getExpirationTime() == null || !c.getExpirationTime().toInstant().isAfter(clock.instant())) {
                throw new IllegalArgumentException("token has expired");
            }
            return new Validated(c.getSubject(), c.getClaims());
        } catch (ParseException | JOSEException e) {
            throw new IllegalArgumentException("malformed token: " + e.getMessage(), e);
        }
    }
}

package dev.meshauth.spire.testing;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a test class that runs the real {@code spire-server} and {@code spire-agent} (built from SPIRE's Go
 * module by {@code interop/spire/build.sh}). Tagged {@code real-spire}; skipped with the reason when the
 * binaries are missing and cannot be built, except in CI ({@code CI=true}) or with
 * {@code MESHAUTH_REQUIRE_SPIRE=true}, where that is a failure.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("real-spire")
@ExtendWith(RealSpireCondition.class)
public @interface RealSpireTest {
}

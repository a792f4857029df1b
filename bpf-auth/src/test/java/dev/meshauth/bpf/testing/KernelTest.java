package dev.meshauth.bpf.testing;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a test class that makes real bpf(2) calls. Tagged {@code kernel}; skipped with the reason when
 * this process cannot use BPF, except in CI ({@code CI=true}) or with {@code MESHAUTH_REQUIRE_KERNEL=true},
 * where that is a failure: a kernel test that silently skips proves nothing.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("kernel")
@ExtendWith(KernelCondition.class)
public @interface KernelTest {
}

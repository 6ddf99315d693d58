package dev.braid.testkit;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The seed a test (or every test of a class) uses unless {@code -Dbraid.seed} says otherwise, for
 * tests whose default run is a fixed, known-good schedule rather than a fresh seed.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ ElementType.METHOD, ElementType.TYPE })
public @interface DefaultSeed
{
    long value();
}

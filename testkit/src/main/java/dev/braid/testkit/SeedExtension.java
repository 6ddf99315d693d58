package dev.braid.testkit;

import java.lang.reflect.AnnotatedElement;
import java.util.Optional;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.opentest4j.TestAbortedException;

/**
 * Picks, prints and replays the seed of randomized tests: a test (or {@code @BeforeAll} method)
 * that declares a {@link Seed} parameter gets one, and {@code <test> seed=N} goes to stdout. A
 * failing test also prints how to replay it ({@code -Dbraid.seed=N -Dtest=Class#method}).
 * Register with {@code @ExtendWith(SeedExtension.class)}.
 */
public final class SeedExtension implements ParameterResolver, TestExecutionExceptionHandler
{
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(SeedExtension.class);

    @Override
    public boolean supportsParameter(final ParameterContext parameter, final ExtensionContext context)
    {
        return parameter.getParameter().getType() == Seed.class;
    }

    @Override
    public Object resolveParameter(final ParameterContext parameter, final ExtensionContext context)
    {
        return context.getStore(NAMESPACE).getOrComputeIfAbsent(Seed.class, k -> pick(context), Seed.class);
    }

    @Override
    public void handleTestExecutionException(final ExtensionContext context, final Throwable failure) throws Throwable
    {
        final Seed seed = find(context);
        if (seed != null && !(failure instanceof TestAbortedException))
        {
            final String line = name(context) + " failed at seed=" + seed.current() + "; replay: " +
                Seed.replay(seed.current()) + " -Dtest=" + context.getRequiredTestClass().getSimpleName() +
                context.getTestMethod().map(m -> "#" + m.getName()).orElse("");
            System.out.println(line);
            failure.addSuppressed(new SeedReplay(line));
        }
        throw failure;
    }

    private static Seed find(final ExtensionContext context)
    {
        for (Optional<ExtensionContext> c = Optional.of(context); c.isPresent(); c = c.get().getParent())
        {
            final Seed seed = c.get().getStore(NAMESPACE).get(Seed.class, Seed.class);
            if (seed != null)
            {
                return seed;
            }
        }
        return null;
    }

    private static Seed pick(final ExtensionContext context)
    {
        final String fixed = System.getProperty(Seed.SEED_PROPERTY);
        final Seed seed;
        if (fixed != null)
        {
            seed = new Seed(parse(fixed), true);
        }
        else
        {
            final DefaultSeed declared = declared(context);
            seed = new Seed(declared != null ? declared.value() : System.nanoTime(), false);
        }
        System.out.println(name(context) + " seed=" + seed.value());
        return seed;
    }

    private static long parse(final String fixed)
    {
        try
        {
            return Long.parseLong(fixed.trim());
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("-D" + Seed.SEED_PROPERTY + "=" + fixed + " is not a whole number", ex);
        }
    }

    private static DefaultSeed declared(final ExtensionContext context)
    {
        final Optional<? extends AnnotatedElement> method = context.getTestMethod();
        if (method.isPresent() && method.get().isAnnotationPresent(DefaultSeed.class))
        {
            return method.get().getAnnotation(DefaultSeed.class);
        }
        return context.getTestClass().map(c -> c.getAnnotation(DefaultSeed.class)).orElse(null);
    }

    private static String name(final ExtensionContext context)
    {
        final String cls = context.getTestClass().map(Class::getSimpleName).orElse("");
        if (context.getTestMethod().isEmpty())
        {
            return cls;
        }
        final String method = context.getTestMethod().get().getName();
        final String display = context.getDisplayName();
        return cls + "." + method + (display.startsWith(method + "(") ? "" : " " + display);
    }

    /** Carries the replay line into the failure's report. */
    private static final class SeedReplay extends Exception
    {
        private static final long serialVersionUID = 1L;

        SeedReplay(final String line)
        {
            super(line, null, false, false);
        }
    }
}

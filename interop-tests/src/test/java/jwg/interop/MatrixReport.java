package jwg.interop;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.TestTag;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * The scenario × peers table of a run: every test tagged {@value #TAG} (one scenario, run for each pairing) or
 * {@value RoamingDnsIT#TAG} (jwg's roaming, run with each moving peer) adds a line to target/interop-matrix.tsv as it ends; when the run ends, target/interop-matrix.md is the table, pass or
 * FAIL or skipped per cell, with the reason of each failure below it. Registered with the JUnit launcher through
 * META-INF/services, so the table comes from whatever ran: {@code mvn verify}, or interop-tests/run for any
 * implementation.
 */
public final class MatrixReport implements TestExecutionListener {
    static final String TAG = "matrix";
    /**
     * A pass with jwg's offloads switched off (JWG_OFFLOADS=off, the second failsafe execution) keeps a table of its
     * own, so that it neither wipes nor mixes with the main one.
     */
    static final String SUFFIX = System.getenv("JWG_OFFLOADS") == null ? "" : "-offloads-" + System.getenv("JWG_OFFLOADS");
    private static final Path TSV = Path.of("target", "interop-matrix" + SUFFIX + ".tsv").toAbsolutePath();
    private static final Path MARKDOWN = Path.of("target", "interop-matrix" + SUFFIX + ".md").toAbsolutePath();
    private static boolean started;

    private TestPlan plan;

    /** One cell: a scenario for one pairing. */
    private record Outcome(String test, String scenario, String pairing, String status, String reason) {}

    /** Rows by test class in this order (from a peer's basics to its defences), then by scenario name. */
    private static final List<String> ORDER = List.of("LifecycleIT", "PingIT", "DualStackIT", "PresharedKeyIT",
            "TransferIT", "MtuIT", "TransferCountersIT", "CryptokeyRoutingIT", "KeepaliveIT", "RekeyIT", "RoamingIT",
            "UnderLoadIT", "GarbageIT", "FaultsIT", "RoamingDnsIT");

    @Override
    public void testPlanExecutionStarted(TestPlan testPlan) {
        plan = testPlan;
        synchronized (MatrixReport.class) {
            if (!started) {
                started = true;
                write(TSV, "");   // a new run: the file holds this JVM's results only
            }
        }
    }

    @Override
    public void executionSkipped(TestIdentifier id, String reason) {
        if (id.isTest() && tagged(id)) {
            record(id, "skipped", reason);
        }
    }

    @Override
    public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        if (!id.isTest() || !tagged(id)) {
            return;
        }
        String reason = result.getThrowable().map(MatrixReport::firstLine).orElse("");
        switch (result.getStatus()) {
            case SUCCESSFUL -> record(id, "pass", "");
            case ABORTED -> record(id, "skipped", reason);
            case FAILED -> record(id, "FAIL", reason);
        }
    }

    @Override
    public void testPlanExecutionFinished(TestPlan testPlan) {
        List<Outcome> outcomes = read();
        if (!outcomes.isEmpty()) {
            String table = render(outcomes);
            write(MARKDOWN, table);
            System.out.println("\n" + table);
        }
    }

    private boolean tagged(TestIdentifier id) {
        for (Optional<TestIdentifier> at = Optional.of(id); at.isPresent(); at = plan.getParent(at.get())) {
            Set<TestTag> tags = at.get().getTags();
            if (tags.contains(TestTag.create(TAG)) || tags.contains(TestTag.create(RoamingDnsIT.TAG))) {
                return true;
            }
        }
        return false;
    }

    /** The scenario is the parameterized method's display name, the pairing that of its invocation. */
    private void record(TestIdentifier id, String status, String reason) {
        Optional<TestIdentifier> parent = plan.getParent(id);
        boolean invocation = parent.isPresent() && parent.get().isContainer() && parent.get().getSource()
                .map(MethodSource.class::isInstance).orElse(false);
        String scenario = invocation ? parent.get().getDisplayName() : id.getDisplayName();
        String pairing = invocation ? id.getDisplayName() : "-";
        String test = id.getSource().filter(MethodSource.class::isInstance).map(MethodSource.class::cast)
                .map(m -> m.getJavaClass().getSimpleName()).orElse("");
        String line = String.join("\t", test, clean(scenario), clean(pairing), status, clean(reason)) + "\n";
        synchronized (MatrixReport.class) {
            append(TSV, line);
        }
    }

    private static List<Outcome> read() {
        try {
            if (!Files.exists(TSV)) {
                return List.of();
            }
            List<Outcome> out = new ArrayList<>();
            for (String line : Files.readAllLines(TSV, StandardCharsets.UTF_8)) {
                String[] f = line.split("\t", -1);
                if (f.length == 5) {
                    out.add(new Outcome(f[0], f[1], f[2], f[3], f[4]));
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Rows in {@link #ORDER}; columns in {@link Pair}'s order of pairings (those with wireguard-go, itself,
     * the kernel, the controls, then alone), any other after them; footnotes give the reasons.
     */
    static String render(List<Outcome> unordered) {
        List<Outcome> outcomes = unordered.stream().sorted(Comparator
                .comparingInt((Outcome o) -> ORDER.contains(o.test()) ? ORDER.indexOf(o.test()) : ORDER.size())
                .thenComparing(Outcome::scenario)).toList();
        Set<String> scenarios = new LinkedHashSet<>();
        Set<String> pairings = new LinkedHashSet<>(knownPairings());
        Map<String, Outcome> cells = new LinkedHashMap<>();
        for (Outcome o : outcomes) {
            scenarios.add(o.scenario());
            pairings.add(o.pairing());
            cells.put(o.scenario() + "\t" + o.pairing(), o);
        }
        pairings.removeIf(p -> outcomes.stream().noneMatch(o -> o.pairing().equals(p)));
        StringBuilder sb = new StringBuilder();
        Implementation subject = Implementation.subject();
        sb.append("Implementation under test: **").append(subject.name()).append("** (`")
                .append(String.join(" ", subject.command())).append("`); pairings read a → b, roles as the scenario")
                .append(" names them.\n\n| scenario |");
        pairings.forEach(p -> sb.append(' ').append(p).append(" |"));
        sb.append("\n| --- |").append(" --- |".repeat(pairings.size())).append('\n');
        List<String> notes = new ArrayList<>();
        int passed = 0;
        for (String scenario : scenarios) {
            sb.append("| ").append(scenario).append(" |");
            for (String pairing : pairings) {
                Outcome o = cells.get(scenario + "\t" + pairing);
                if (o == null) {
                    sb.append("  |");
                    continue;
                }
                String cell = o.status();
                if (o.status().equals("pass")) {
                    passed++;
                } else {
                    notes.add(o.reason());
                    cell += " [" + notes.size() + "]";
                }
                sb.append(' ').append(cell).append(" |");
            }
            sb.append('\n');
        }
        sb.append(String.format(Locale.ROOT, "%n%d of %d passed", passed, outcomes.size()));
        sb.append(notes.isEmpty() ? ".\n" : ":\n\n");
        for (int i = 0; i < notes.size(); i++) {
            sb.append(i + 1).append(". ").append(notes.get(i)).append('\n');
        }
        return sb.toString();
    }

    /** The display names that "{0} → {1}" and "{0} alone" give Pair's pairings, in its order. */
    private static List<String> knownPairings() {
        List<String> names = new ArrayList<>();
        Stream.concat(Pair.pairings(), Pair.kernelPairings())
                .forEach(args -> names.add(args.get()[0] + " → " + args.get()[1]));
        Pair.alone().forEach(args -> names.add(args.get()[0] + " alone"));
        return names;
    }

    private static String firstLine(Throwable t) {
        String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        String first = message.strip().lines().findFirst().orElse("");
        return first.length() > 300 ? first.substring(0, 300) + "…" : first;
    }

    private static String clean(String s) {
        return s.replace('\t', ' ').replace('\n', ' ').replace("|", "\\|");
    }

    private static void write(Path file, String text) {
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void append(Path file, String text) {
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

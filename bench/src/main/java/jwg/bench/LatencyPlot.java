package jwg.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;

/**
 * The latency percentile plot of a bench/compare run as a PNG: one line per {@link LatencyClient} result, latency
 * (µs, log scale) against percentile on the usual HdrHistogram axis, where 90%, 99%, 99.9% and 99.99% are equally
 * spaced (x = log10(1 / (1 - p))), so the tail is as visible as the median. A label names its implementation before
 * its first ", " ("jwg, round 2"): jwg's lines are red, wireguard-go's blue, and each other implementation's
 * (bench/compare --also) a colour of its own, in the order they first appear.
 *
 * <p>Usage: {@code LatencyPlot OUT.png TITLE LABEL=RESULT.json...}
 */
public final class LatencyPlot {
    private static final int W = 960;
    private static final int H = 600;
    private static final int LEFT = 80;
    private static final int RIGHT = 30;
    private static final int TOP = 50;
    private static final int BOTTOM = 60;
    private static final double MAX_X = 5; // 99.999%
    private static final Color JWG = new Color(200, 40, 30, 200);
    private static final Color WIREGUARD_GO = new Color(30, 80, 200, 200);
    /** For the other implementations: green, orange, purple, teal, brown, grey, then round again. */
    private static final List<Color> OTHERS = List.of(new Color(40, 150, 50, 200), new Color(235, 140, 0, 220),
            new Color(130, 50, 170, 200), new Color(0, 150, 150, 200), new Color(140, 90, 40, 200),
            new Color(110, 110, 110, 200));
    private static final Pattern POINT = Pattern.compile("\\[([-0-9.eE+]+),([-0-9.eE+]+)]");

    private record Series(String label, List<double[]> points) {}

    private LatencyPlot() {}

    public static void main(String[] argv) throws IOException {
        Args args = Args.parse(argv, "LatencyPlot OUT.png TITLE LABEL=RESULT.json...");
        List<Series> series = new ArrayList<>();
        args.positional(1);
        for (int i = 2; i < argv.length; i++) {
            String spec = argv[i];
            int eq = spec.indexOf('=');
            if (eq < 0) {
                args.fail("not LABEL=RESULT.json: " + spec);
            }
            series.add(new Series(spec.substring(0, eq), distribution(Path.of(spec.substring(eq + 1)))));
        }
        System.setProperty("java.awt.headless", "true");
        ImageIO.write(draw(args.positional(1), series), "png", new File(args.positional(0)));
    }

    /** (x, log10 µs) points of a LatencyClient result's "distribution" field. */
    private static List<double[]> distribution(Path json) throws IOException {
        String text = Files.readString(json);
        int from = text.indexOf("\"distribution\"");
        int to = text.indexOf("]]", from);
        List<double[]> points = new ArrayList<>();
        if (from < 0 || to < 0) {
            return points;
        }
        Matcher m = POINT.matcher(text.substring(from, to + 2));
        while (m.find()) {
            double p = Double.parseDouble(m.group(1)) / 100;
            double us = Double.parseDouble(m.group(2));
            if (us > 0) {
                points.add(new double[] {Math.min(MAX_X, p >= 1 ? MAX_X : Math.log10(1 / (1 - p))), Math.log10(us)});
            }
        }
        return points;
    }

    private static BufferedImage draw(String title, List<Series> series) {
        double lo = Double.MAX_VALUE;
        double hi = -Double.MAX_VALUE;
        for (Series s : series) {
            for (double[] p : s.points()) {
                lo = Math.min(lo, p[1]);
                hi = Math.max(hi, p[1]);
            }
        }
        lo = Math.floor(lo == Double.MAX_VALUE ? 0 : lo);
        hi = Math.max(lo + 1, Math.ceil(hi == -Double.MAX_VALUE ? 1 : hi));
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, W, H);
        axes(g, title, lo, hi);
        int legendY = TOP + 20;
        Map<String, Color> colours = new HashMap<>(Map.of("jwg", JWG, "wireguard-go", WIREGUARD_GO));
        for (Series s : series) {
            String impl = s.label().contains(", ") ? s.label().substring(0, s.label().indexOf(", ")) : s.label();
            g.setColor(colours.computeIfAbsent(impl, k -> OTHERS.get((colours.size() - 2) % OTHERS.size())));
            g.setStroke(new BasicStroke(1.8f));
            Path2D line = new Path2D.Double();
            for (double[] p : s.points()) {
                double x = LEFT + p[0] / MAX_X * (W - LEFT - RIGHT);
                double y = H - BOTTOM - (p[1] - lo) / (hi - lo) * (H - TOP - BOTTOM);
                if (line.getCurrentPoint() == null) {
                    line.moveTo(x, y);
                } else {
                    line.lineTo(x, y);
                }
            }
            g.draw(line);
            g.drawLine(LEFT + 20, legendY - 4, LEFT + 50, legendY - 4);
            g.setColor(Color.BLACK);
            g.drawString(s.label(), LEFT + 56, legendY);
            legendY += 18;
        }
        g.dispose();
        return img;
    }

    private static void axes(Graphics2D g, String title, double lo, double hi) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        g.setColor(Color.BLACK);
        g.drawString(title, LEFT, 20);
        g.drawString("round-trip latency, µs (log scale)", 8, TOP - 10);
        g.drawString("percentile", W / 2 - 30, H - 15);
        String[] xLabels = {"0%", "90%", "99%", "99.9%", "99.99%", "99.999%"};
        for (int i = 0; i <= MAX_X; i++) {
            int x = (int) (LEFT + i / MAX_X * (W - LEFT - RIGHT));
            g.setColor(new Color(225, 225, 225));
            g.drawLine(x, TOP, x, H - BOTTOM);
            g.setColor(Color.BLACK);
            g.drawString(xLabels[i], i == MAX_X ? x - 50 : x - 15, H - BOTTOM + 18);
        }
        for (int d = (int) lo; d <= hi; d++) {
            int y = (int) (H - BOTTOM - (d - lo) / (hi - lo) * (H - TOP - BOTTOM));
            g.setColor(new Color(225, 225, 225));
            g.drawLine(LEFT, y, W - RIGHT, y);
            g.setColor(Color.BLACK);
            g.drawString(String.valueOf((long) Math.pow(10, d)), 10, y + 4);
        }
        g.drawRect(LEFT, TOP, W - LEFT - RIGHT, H - TOP - BOTTOM);
    }
}

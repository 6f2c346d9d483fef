package io.reskern.cli;

import io.reskern.backend.conv.TuneListener;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The CLI's progress bar while {@code --conv cudnn|best} tunes a plan (me.tongfei:progressbar, on stderr). Shown when
 * {@code --progress} asks for it, or by default when the process has a console (interactive use); never in library
 * use ({@link io.reskern.Model.Builder#optTuneListener} defaults to none).
 */
final class TuneProgress implements TuneListener {
    private ProgressBar bar;

    /** {@code progress}: the flag (null = auto: only with a console). */
    static TuneListener choose(Boolean progress) {
        boolean on = progress != null ? progress : System.console() != null;
        return on ? new TuneProgress() : TuneListener.NONE;
    }

    @Override
    public void start(int total, int cached) {
        if (total == cached) {
            return; // everything from the cache: nothing worth a bar
        }
        bar = new ProgressBarBuilder().setTaskName("tuning convs").setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).setUpdateIntervalMillis(200).build();
    }

    @Override
    public void step(String label, boolean fromCache) {
        if (bar != null) {
            bar.step();
            bar.setExtraMessage(fromCache ? "cached" : label.length() > 40 ? label.substring(0, 40) : label);
        }
    }

    @Override
    public void end() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}

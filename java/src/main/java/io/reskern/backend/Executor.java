package io.reskern.backend;

import io.reskern.Device;
import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.graph.Graph;
import io.reskern.image.ResamplePlan;
import io.reskern.image.RgbImage;

/**
 * One execution context of a graph on one device: its own activation arena and staging buffers (on CUDA also its own
 * stream and captured CUDA graphs), over weights shared with the other contexts of the same {@link DeviceModel}.
 * NOT thread-safe: one call at a time per context ({@link io.reskern.Model} serialises its calls; the serving
 * {@code Predictor} hands each context to one worker thread). Different contexts may run concurrently.
 *
 * <p>A forward pass is {@link #begin} (shapes and buffers for the batch), one {@link #stage} per run of images (or
 * {@link #stageZeros} for padding), then {@link #forward}. After {@link #reserve}, batches up to the reserved size
 * allocate nothing.
 */
public interface Executor extends AutoCloseable {
    Device device();

    Precision precision();

    Graph graph();

    /** Allocates everything a batch of up to {@code maxBatch} images of {@code h × w} needs. */
    void reserve(int maxBatch, int h, int w) throws ReskernException;

    /** Starts a forward pass of {@code n} images of {@code h × w} (plans and, if needed, grows the buffers). */
    void begin(int n, int h, int w) throws ReskernException;

    /** Copies images {@code [first, first + count)} of the current batch from {@code src} (float32 NCHW). */
    void stage(InputData src, int first, int count) throws ReskernException;

    /**
     * Resizes, crops and normalises one decoded image straight into image {@code index} of the current batch
     * ({@code rk_*_resample_normalize_u8}; on a GPU the pixels are copied to the device and processed there).
     * {@code plan} must be for this image's size and the batch's input size.
     */
    void stageImage(RgbImage image, ResamplePlan plan, int index) throws ReskernException;

    /** Fills images {@code [first, first + count)} of the current batch with zeros (padding rows). */
    void stageZeros(int first, int count) throws ReskernException;

    /** Runs the network on the staged batch; writes {@code n · classes} logits into {@code out} from {@code outOffset}. */
    void forward(float[] out, int outOffset) throws ReskernException;

    /** Convenience: one forward pass of {@code n} images from a heap array. */
    default void run(float[] nchw, int n, int h, int w, float[] out) throws ReskernException {
        begin(n, h, w);
        stage(InputData.of(nchw), 0, n);
        forward(out, 0);
    }

    /** Bytes of activation memory planned for the largest batch so far (arena only). */
    long activationBytes();

    /** Bytes this context holds beyond the shared weights (arena + staging), on its device and pinned host. */
    long contextBytes();

    @Override
    void close();
}

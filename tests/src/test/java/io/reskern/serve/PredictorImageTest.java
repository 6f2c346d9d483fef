package io.reskern.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.Model;
import io.reskern.ReskernException;
import io.reskern.image.CpuImages;
import io.reskern.image.ImageDecoder;
import io.reskern.image.Preprocess;
import io.reskern.image.RgbImage;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Decoded images through the Predictor: preprocessed straight into the batch, same logits as the manual path. */
class PredictorImageTest {
    static RgbImage randomImage(int h, int w, long seed) {
        Random r = new Random(seed);
        byte[] px = new byte[h * w * 3];
        r.nextBytes(px);
        return RgbImage.ofRgb(px, h, w);
    }

    @Test
    void onlyTheImageStagingGrowsAfterBuildAndOnlyToTheLargestImage() throws Exception {
        try (Predictor p = Predictor.builder(Model.builder().model("cifar_resnet20")).optMaxBatch(2).build()) {
            long built = p.memoryBytes();
            p.predict(Input.nchw(new float[3 * 32 * 32], 1));
            assertEquals(built, p.memoryBytes(), "array inputs allocate nothing");
            p.predict(Input.image(randomImage(400, 300, 1)));
            long big = p.memoryBytes();
            assertTrue(big > built + 400 * 300 * 3, "the pixel staging grew to the image: " + built + " -> " + big);
            p.predict(Input.images(List.of(randomImage(40, 30, 2), randomImage(400, 300, 3))));
            assertEquals(big, p.memoryBytes(), "not beyond the largest image seen");
        }
    }

    @Test
    void imagesGiveTheLogitsOfTheManualPreprocessPath() throws Exception {
        List<RgbImage> imgs = List.of(randomImage(300, 200, 1), randomImage(97, 131, 2), randomImage(224, 224, 3),
                randomImage(120, 500, 4));
        Preprocess pre = Preprocess.imagenet();
        float[] want;
        try (Model m = Model.builder().model("resnet18").optClasses(10).build()) {
            want = m.predict(CpuImages.nchw(imgs, pre), imgs.size(), 224, 224);
        }
        try (Predictor p = Predictor.builder(Model.builder().model("resnet18").optClasses(10)).optMaxBatch(4).build()) {
            assertEquals(pre, p.preprocess());
            assertArrayEquals(want, p.predict(Input.images(imgs)).logits());
            // one image per request, concurrently, mixed with float requests: each lands in its own slot
            List<CompletableFuture<Predictions>> fs = new ArrayList<>();
            float[] floats = CpuImages.nchw(List.of(imgs.get(1)), pre);
            for (int rep = 0; rep < 3; rep++) {
                for (RgbImage im : imgs) {
                    fs.add(p.predictAsync(Input.image(im)));
                }
                fs.add(p.predictAsync(floats, 1));
            }
            for (int i = 0; i < fs.size(); i++) {
                int k = i % 5;
                float[] got = fs.get(i).get().logits();
                int img = k == 4 ? 1 : k;
                float[] exp = java.util.Arrays.copyOfRange(want, img * 10, img * 10 + 10);
                assertArrayEquals(exp, got, "request " + i);
            }
        }
    }

    @Test
    void cifarNetsTakeCifarPreprocessingAndFilesDecodeInTheCallingThread(@TempDir Path dir) throws Exception {
        BufferedImage bi = new BufferedImage(40, 36, BufferedImage.TYPE_INT_RGB);
        Random r = new Random(5);
        for (int y = 0; y < 36; y++) {
            for (int x = 0; x < 40; x++) {
                bi.setRGB(x, y, r.nextInt(1 << 24));
            }
        }
        Path png = dir.resolve("x.png");
        ImageIO.write(bi, "png", png.toFile());
        try (Predictor p = Predictor.builder(Model.builder().model("cifar_resnet20")).build()) {
            assertEquals(Preprocess.cifar(), p.preprocess());
            RgbImage decoded = ImageDecoder.defaults().decode(png);
            assertArrayEquals(p.predict(Input.image(decoded)).logits(), p.predict(Input.files(List.of(png))).logits());
            Path junk = Files.write(dir.resolve("junk.jpg"), new byte[] {1, 2, 3});
            ReskernException e = assertThrows(ReskernException.class, () -> Input.files(List.of(junk)));
            assertEquals(ReskernException.ErrorCode.BAD_FILE, e.code());
            assertTrue(e.getMessage().contains("junk.jpg"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> p.predict(Input.images(
                    List.of(decoded, decoded, decoded, decoded, decoded, decoded, decoded, decoded, decoded))));
        }
        assertThrows(IllegalArgumentException.class, () -> Predictor.builder(Model.builder().model("cifar_resnet20"))
                .optPreprocess(Preprocess.imagenet()).build());
    }
}

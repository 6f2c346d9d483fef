package io.reskern.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.ReskernException;
import io.reskern.ReskernException.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Labels files: text (line = class), JSON arrays, imagenet_class_index.json objects, and every malformed form. */
class LabelsTest {
    @TempDir
    Path tmp;

    Path file(String name, String content) throws Exception {
        return Files.writeString(tmp.resolve(name), content, StandardCharsets.UTF_8);
    }

    Labels load(String name, String content) throws Exception {
        return Labels.load(file(name, content));
    }

    void bad(String name, String content, String word) throws Exception {
        Path f = file(name, content);
        ReskernException e = assertThrows(ReskernException.class, () -> Labels.load(f));
        assertEquals(ErrorCode.BAD_FILE, e.code(), e.getMessage());
        assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains(word), e.getMessage());
    }

    @Test
    void textOneLabelPerLine() throws Exception {
        String cifar = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n";
        Labels l = load("cifar10.txt", cifar);
        assertEquals(10, l.size());
        assertEquals("airplane", l.get(0));
        assertEquals("truck", l.get(9));
        assertEquals(List.of("a b", "c"), load("crlf.txt", "\uFEFFa b\r\n  c  \r\n").asList(), "BOM, CRLF, trimmed");
        assertEquals(List.of("a", "", "c"), load("blank.txt", "a\n\nc\n\n\n").asList(),
                "an inner blank line is an empty label (keeps line = class); trailing blank lines are dropped");
        assertEquals(List.of("n01440764 tench, Tinca tinca"), load("synset.txt", "n01440764 tench, Tinca tinca").asList());
    }

    @Test
    void jsonArrayAndClassIndexObject() throws Exception {
        assertEquals(List.of("tench", "goldfish"), load("a.json", "[\"tench\", \"goldfish\"]").asList());
        Labels idx = load("imagenet_class_index.json",
                "{\"1\": [\"n01443537\", \"goldfish\"], \"0\": [\"n01440764\", \"tench\"], \"2\": [\"n01484850\", \"great_white_shark\"]}");
        assertEquals(List.of("tench", "goldfish", "great_white_shark"), idx.asList());
        assertEquals(List.of("x", "y"), load("o.json", " {\"0\": \"x\", \"1\": \"y\"}").asList());
    }

    /** Gson's lenient parser took these (apiaudit): a repeated class index kept the last label, silently. */
    @Test
    void jsonIsStrictAndARepeatedClassIndexIsAnError() throws Exception {
        bad("dup.json", "{\"0\": \"a\", \"0\": \"b\", \"1\": \"c\"}", "class index 0 given twice");
        bad("unquoted.json", "[tench, goldfish]", "malformed JSON");
        bad("single.json", "['a', 'b']", "malformed JSON");
        bad("trailing-comma.json", "[\"a\", \"b\",]", "malformed JSON");
        bad("keys.json", "{0: \"a\", 1: \"b\"}", "malformed JSON");
        bad("comment.json", "[\"a\"] // one", "malformed JSON");
        bad("two.json", "[\"a\"] [\"b\"]", "malformed JSON");
        // one line, no Gson troubleshooting link; it says why a text file starting with [ was read as JSON
        Path f = file("vocab.txt", "[unused0]\n[unused1]\n");
        ReskernException e = assertThrows(ReskernException.class, () -> Labels.load(f));
        assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("https://"), e.getMessage());
        assertTrue(e.getMessage().contains("starting with [ or { is read as JSON"), e.getMessage());
        Path huge = file("huge.json", "[{\"x\": \"" + "y".repeat(1 << 20) + "\"}]");
        ReskernException h = assertThrows(ReskernException.class, () -> Labels.load(huge));
        assertTrue(h.getMessage().length() < 400 && h.getMessage().contains("element 0"), h.getMessage());
        assertEquals(List.of("a", "b"), load("ok.json", "\uFEFF {\"1\": \"b\", \"0\": [\"n0\", \"a\"]} \n").asList());
    }

    /** A lone CR ends a line, as in Python's universal newlines; it used to give one label "a\rb\rc". */
    @Test
    void classicMacLineEndings() throws Exception {
        assertEquals(List.of("a", "b", "c"), load("cr.txt", "a\rb\rc\r").asList());
        assertEquals(List.of("a", "", "c"), load("mixed.txt", "a\r\n\rc\n").asList());
    }

    @Test
    void malformedFilesAreBadFiles() throws Exception {
        bad("empty.txt", "", "empty");
        bad("blank.txt", "\n \n\n", "empty");
        bad("broken.json", "[\"a\", ", "malformed JSON");
        bad("numbers.json", "[\"a\", 3]", "element 1");
        bad("gap.json", "{\"0\": \"a\", \"2\": \"c\"}", "outside");
        bad("missing.json", "{\"1\": \"b\", \"0\": \"a\", \"3\": \"d\", \"4\": \"e\"}", "outside");
        bad("key.json", "{\"zero\": \"a\"}", "not a class index");
        bad("leading0.json", "{\"00\": \"a\"}", "outside");
        bad("nested.json", "{\"0\": {\"name\": \"a\"}}", "class 0");
        bad("emptyarr.json", "[]", "no labels");
        bad("scalar.json", "[[]]", "element 0");
        Path f = tmp.resolve("latin1.txt");
        Files.write(f, new byte[] {'c', 'a', 'f', (byte) 0xe9, '\n'});
        ReskernException e = assertThrows(ReskernException.class, () -> Labels.load(f));
        assertEquals(ErrorCode.BAD_FILE, e.code());
        assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
        e = assertThrows(ReskernException.class, () -> Labels.load(tmp.resolve("nope.txt")));
        assertEquals(ErrorCode.IO, e.code());
        assertThrows(IllegalArgumentException.class, () -> Labels.of(List.of()));
    }
}

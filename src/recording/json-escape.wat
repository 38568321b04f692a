;; JSON string escaping of UTF-8 bytes for asciicast lines (see json-escape.ts); compiled into
;; json-escape-wasm.ts by scripts/build-wasm.js.
;; Memory: [0, 2048) the escape table, 256 entries of 8 bytes: byte 0 the escape's length (0 = copy
;; the byte), bytes 1..6 its text; [2048, 67584) input; [67584, 460800) output (6 x input, the
;; longest escape), then 16 bytes of slack for the last vector store; from 524288, 16 write slots of
;; 256 KiB (json-escape.ts), into which the escape may write directly.
;; escape($len, $out): escapes the $len input bytes to $out; returns the bytes written there. The
;; caller leaves 6 x $len + 16 bytes of room at $out (the last vector store may pass the end by 15).
(module
  (memory (export "memory") 72)
  (func (export "escape") (param $len i32) (param $out i32) (result i32)
    (local $i i32) (local $o i32) (local $end i32) (local $v v128) (local $m i32) (local $b i32) (local $e i32) (local $k i32)
    (local $c31 v128) (local $c34 v128) (local $c92 v128)
    (local.set $c31 (i8x16.splat (i32.const 31)))
    (local.set $c34 (i8x16.splat (i32.const 34)))
    (local.set $c92 (i8x16.splat (i32.const 92)))
    (local.set $i (i32.const 2048))
    (local.set $o (local.get $out))
    (local.set $end (i32.add (local.get $len) (i32.const 2048)))
    (block $done
      (loop $top
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (if (i32.le_u (i32.add (local.get $i) (i32.const 16)) (local.get $end))
          (then
            (local.set $v (v128.load align=1 (local.get $i)))
            ;; a byte below 32 (min_u(v, 31) = v), a quote or a backslash
            (local.set $m (i8x16.bitmask
              (v128.or
                (v128.or
                  (i8x16.eq (i8x16.min_u (local.get $v) (local.get $c31)) (local.get $v))
                  (i8x16.eq (local.get $v) (local.get $c34)))
                (i8x16.eq (local.get $v) (local.get $c92)))))
            (v128.store align=1 (local.get $o) (local.get $v))
            (if (i32.eqz (local.get $m))
              (then
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (local.set $o (i32.add (local.get $o) (i32.const 16)))
                (br $top)))
            (local.set $k (i32.ctz (local.get $m)))
            (local.set $i (i32.add (local.get $i) (local.get $k)))
            (local.set $o (i32.add (local.get $o) (local.get $k)))))
        ;; one byte: copied if it needs no escape (the tail under 16 bytes), else it and every
        ;; escaped byte right after it (CR LF) are escaped here before the next vector
        (local.set $b (i32.load8_u (local.get $i)))
        (local.set $e (i32.shl (local.get $b) (i32.const 3)))
        (local.set $k (i32.load8_u (local.get $e)))
        (if (i32.eqz (local.get $k))
          (then
            (i32.store8 (local.get $o) (local.get $b))
            (local.set $o (i32.add (local.get $o) (i32.const 1)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $top)))
        (loop $esc
          (i64.store align=1 (local.get $o) (i64.load align=1 (i32.add (local.get $e) (i32.const 1))))
          (local.set $o (i32.add (local.get $o) (local.get $k)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $top (i32.ge_u (local.get $i) (local.get $end)))
          (local.set $e (i32.shl (i32.load8_u (local.get $i)) (i32.const 3)))
          (local.set $k (i32.load8_u (local.get $e)))
          (br_if $esc (local.get $k)))
        (br $top)))
    (i32.sub (local.get $o) (local.get $out))))

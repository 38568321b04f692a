;; JSON string escaping of UTF-8 bytes for asciicast lines (see json-escape.ts); compiled into
;; json-escape-wasm.ts by scripts/build-wasm.js.
;; Memory: [0, 2048) the escape table, 256 entries of 8 bytes: byte 0 the escape's length (0 = copy
;; the byte), bytes 1..6 its text; [2048, 67584) input; [67584, 460800) output (6 x input, the
;; longest escape), then 16 bytes of slack for the last vector store.
(module
  (memory (export "memory") 8)
  (func (export "escape") (param $len i32) (result i32)
    (local $i i32) (local $o i32) (local $end i32) (local $v v128) (local $m i32) (local $b i32) (local $e i32) (local $k i32)
    (local.set $i (i32.const 2048))
    (local.set $o (i32.const 67584))
    (local.set $end (i32.add (local.get $len) (i32.const 2048)))
    (block $done
      (loop $top
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (if (i32.le_u (i32.add (local.get $i) (i32.const 16)) (local.get $end))
          (then
            (local.set $v (v128.load align=1 (local.get $i)))
            (local.set $m (i8x16.bitmask
              (v128.or
                (v128.or
                  (i8x16.lt_u (local.get $v) (v128.const i8x16 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32 32))
                  (i8x16.eq (local.get $v) (v128.const i8x16 34 34 34 34 34 34 34 34 34 34 34 34 34 34 34 34)))
                (i8x16.eq (local.get $v) (v128.const i8x16 92 92 92 92 92 92 92 92 92 92 92 92 92 92 92 92)))))
            (v128.store align=1 (local.get $o) (local.get $v))
            (if (i32.eqz (local.get $m))
              (then
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (local.set $o (i32.add (local.get $o) (i32.const 16)))
                (br $top)))
            (local.set $k (i32.ctz (local.get $m)))
            (local.set $i (i32.add (local.get $i) (local.get $k)))
            (local.set $o (i32.add (local.get $o) (local.get $k)))))
        (local.set $b (i32.load8_u (local.get $i)))
        (local.set $e (i32.shl (local.get $b) (i32.const 3)))
        (local.set $k (i32.load8_u (local.get $e)))
        (if (i32.eqz (local.get $k))
          (then
            (i32.store8 (local.get $o) (local.get $b))
            (local.set $o (i32.add (local.get $o) (i32.const 1))))
          (else
            (i64.store align=1 (local.get $o) (i64.load align=1 (i32.add (local.get $e) (i32.const 1))))
            (local.set $o (i32.add (local.get $o) (local.get $k)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $top)))
    (i32.sub (local.get $o) (i32.const 67584))))

;; UTF-16 to UTF-8 for the Node entry's text hook (node-text.js): a string
;; is copied into this module's memory as UTF-16 by node:buffer (13 µs for
;; the 301 KB playbook), turned into UTF-8 here sixteen code units at a time
;; while they are ASCII (one Wasm SIMD test and one narrowing store), one by
;; one otherwise, then copied into the engine's memory: ~43 µs in all, where
;; Node 20's TextEncoder.encodeInto takes ~140 µs for the same text.
;;
;; Assembled by scripts/build-pkg.mjs (binaryen's wasm-as, --enable-simd) into
;; pkg/utf16.wasm. The output equals TextEncoder's, lone surrogates included
;; (each becomes U+FFFD): tests/js/node-text.test.mjs.
(module
  (memory (export "memory") 1)
  ;; transcode(end, out) -> bytes written: the UTF-16LE units in [0, end) (end = 2 × units)
  ;; as UTF-8 from `out` on; lone surrogates become U+FFFD, as TextEncoder does.
  (func (export "transcode") (param $end i32) (param $out i32) (result i32)
    (local $i i32) (local $o i32) (local $a v128) (local $b v128) (local $c i32) (local $d i32) (local $stop i32)
    (local.set $o (local.get $out))
    (block $done
      (loop $next
        ;; 16 units at a time while they are all ASCII
        (if (i32.le_u (i32.add (local.get $i) (i32.const 32)) (local.get $end))
          (then
            (local.set $a (v128.load (local.get $i)))
            (local.set $b (v128.load offset=16 (local.get $i)))
            (if (i32.eqz (v128.any_true (v128.and (v128.or (local.get $a) (local.get $b)) (v128.const i16x8 0xff80 0xff80 0xff80 0xff80 0xff80 0xff80 0xff80 0xff80))))
              (then
                (v128.store (local.get $o) (i8x16.narrow_i16x8_u (local.get $a) (local.get $b)))
                (local.set $i (i32.add (local.get $i) (i32.const 32)))
                (local.set $o (i32.add (local.get $o) (i32.const 16)))
                (br $next)))))
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        ;; otherwise up to 16 units one by one
        (local.set $stop (i32.add (local.get $i) (i32.const 32)))
        (if (i32.gt_u (local.get $stop) (local.get $end)) (then (local.set $stop (local.get $end))))
        (loop $unit
          (local.set $c (i32.load16_u (local.get $i)))
          (local.set $i (i32.add (local.get $i) (i32.const 2)))
          (block $w
            (if (i32.lt_u (local.get $c) (i32.const 0x80))
              (then
                (i32.store8 (local.get $o) (local.get $c))
                (local.set $o (i32.add (local.get $o) (i32.const 1)))
                (br $w)))
            (if (i32.lt_u (local.get $c) (i32.const 0x800))
              (then
                (i32.store8 (local.get $o) (i32.or (i32.const 0xc0) (i32.shr_u (local.get $c) (i32.const 6))))
                (i32.store8 offset=1 (local.get $o) (i32.or (i32.const 0x80) (i32.and (local.get $c) (i32.const 0x3f))))
                (local.set $o (i32.add (local.get $o) (i32.const 2)))
                (br $w)))
            ;; a high surrogate followed by a low one: 4 bytes
            (if (i32.eq (i32.and (local.get $c) (i32.const 0xfc00)) (i32.const 0xd800))
              (then
                (if (i32.lt_u (local.get $i) (local.get $end))
                  (then
                    (local.set $d (i32.load16_u (local.get $i)))
                    (if (i32.eq (i32.and (local.get $d) (i32.const 0xfc00)) (i32.const 0xdc00))
                      (then
                        (local.set $c (i32.add (i32.const 0x10000)
                          (i32.or (i32.shl (i32.and (local.get $c) (i32.const 0x3ff)) (i32.const 10))
                                  (i32.and (local.get $d) (i32.const 0x3ff)))))
                        (local.set $i (i32.add (local.get $i) (i32.const 2)))
                        (i32.store8 (local.get $o) (i32.or (i32.const 0xf0) (i32.shr_u (local.get $c) (i32.const 18))))
                        (i32.store8 offset=1 (local.get $o) (i32.or (i32.const 0x80) (i32.and (i32.shr_u (local.get $c) (i32.const 12)) (i32.const 0x3f))))
                        (i32.store8 offset=2 (local.get $o) (i32.or (i32.const 0x80) (i32.and (i32.shr_u (local.get $c) (i32.const 6)) (i32.const 0x3f))))
                        (i32.store8 offset=3 (local.get $o) (i32.or (i32.const 0x80) (i32.and (local.get $c) (i32.const 0x3f))))
                        (local.set $o (i32.add (local.get $o) (i32.const 4)))
                        (br $w)))))))
            ;; any other unit: 3 bytes, a lone surrogate as U+FFFD
            (if (i32.eq (i32.and (local.get $c) (i32.const 0xf800)) (i32.const 0xd800))
              (then (local.set $c (i32.const 0xfffd))))
            (i32.store8 (local.get $o) (i32.or (i32.const 0xe0) (i32.shr_u (local.get $c) (i32.const 12))))
            (i32.store8 offset=1 (local.get $o) (i32.or (i32.const 0x80) (i32.and (i32.shr_u (local.get $c) (i32.const 6)) (i32.const 0x3f))))
            (i32.store8 offset=2 (local.get $o) (i32.or (i32.const 0x80) (i32.and (local.get $c) (i32.const 0x3f))))
            (local.set $o (i32.add (local.get $o) (i32.const 3))))
          (br_if $unit (i32.lt_u (local.get $i) (local.get $stop))))
        (br $next)))
    (i32.sub (local.get $o) (local.get $out))))

;; starttrap.wat - traps (unreachable) in the module's start function, which
;; runs while the module is instantiated, before _start.
(module
  (memory (export "memory") 1)
  (func $boom unreachable)
  (start $boom)
  (func (export "_start")))

// Runs as good as forever over a large grid while stop is 0: each
// invocation loops on an atomic add, whose result no compiler can foresee
// (a CPU driver such as lavapipe ends a loop after 65535 passes, so the
// grid makes up the rest).  The hostile shader the GPU timeout stops.
#version 450
layout(local_size_x = 1) in;
layout(std430, binding = 0) buffer S { uint stop; uint count; };
void main() {
  for (;;)
    if (atomicAdd(count, 1u) == 0xdeadbeefu && stop != 0u) break;
}

// 400 KB of private array per invocation: refused (on a CPU driver it
// would be the host's stack or heap, times every invocation).
#version 450
layout(local_size_x = 1) in;
layout(std430, binding = 0) buffer D { uint idx; float v; };
float p[100000];
void main() {
  p[idx] = 1.0;
  v = p[idx / 2u];
}

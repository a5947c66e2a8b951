// Writes and reads far outside its buffer: with robust buffer access the
// writes are dropped and the reads give zero (or a value of the buffer).
#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer D { uint d[]; };
void main() {
  uint i = gl_GlobalInvocationID.x;
  d[i + 0x1000000u * (i + 1u)] = 0xdeadbeefu;  // far past the end
  d[i] = d[i + 0x40000000u] + 1u;              // read far past the end
}

// out = in * scale, with scale in a uniform buffer (binding 1).
#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer Data { float d[]; };
layout(std140, binding = 1) uniform U { float scale; };
void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i < d.length()) d[i] *= scale;
}

/*
** viz/color.c: palette, region colors and the heatmap color map.
*/
#include <math.h>

#include "viz/color.h"

/* Series and classes: saturated enough to read as thin lines on white, distinct in hue. */
static const viz_color palette[VIZ_NPALETTE] = {
    0x2a6fdb, /* blue */
    0xe8772e, /* orange */
    0x2ca25f, /* green */
    0xd43d51, /* red */
    0x8c5fc7, /* purple */
    0x8c6d31, /* brown */
    0xd95fb5, /* pink */
    0x6b6b6b, /* gray */
    0xa8ab26, /* olive */
    0x1fb5c2, /* cyan */
};

/* Stops of the heatmap map, dark (0: no zeros) to bright (1: all zeros). */
static const viz_color ramp[] = {0x1b1f3a, 0x3b4f9a, 0x2e9c9a, 0x8fd16a, 0xf6e05e};
enum { NRAMP = sizeof ramp / sizeof *ramp };

viz_color viz_palette(int i) {
  i %= VIZ_NPALETTE;
  return palette[i < 0 ? i + VIZ_NPALETTE : i];
}

viz_color viz_colormap(double t) {
  if (!(t > 0)) return ramp[0];
  if (t >= 1) return ramp[NRAMP - 1];
  double s = t * (NRAMP - 1);
  int i = (int)s;
  return viz_mix(ramp[i], ramp[i + 1], s - i);
}

/* A 64-bit mixer: nearby ids (patterns that differ in one unit) get unrelated hashes. */
static uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15u;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

/* HSL to RGB, all in [0, 1]. */
static viz_color hsl(double h, double s, double l) {
  double c = (1 - fabs(2 * l - 1)) * s, hp = h * 6, x = c * (1 - fabs(fmod(hp, 2) - 1));
  double r = 0, g = 0, b = 0;
  switch ((int)hp % 6) {
  case 0: r = c, g = x; break;
  case 1: r = x, g = c; break;
  case 2: g = c, b = x; break;
  case 3: g = x, b = c; break;
  case 4: r = x, b = c; break;
  default: r = c, b = x; break;
  }
  double m = l - c / 2;
  return (viz_color)lround((r + m) * 255) << 16 | (viz_color)lround((g + m) * 255) << 8 |
         (viz_color)lround((b + m) * 255);
}

/* Pastels: any hue, with saturation and lightness in a band that keeps dark boundaries,
   markers and text readable on top. */
viz_color viz_id_color(int64_t id) {
  uint64_t z = mix64((uint64_t)id);
  double h = (double)(z >> 40) / (double)(1u << 24);
  double s = 0.45 + 0.3 * (double)((z >> 20) & 1023) / 1023;
  double l = 0.68 + 0.14 * (double)(z & 1023) / 1023;
  return hsl(h, s, l);
}

// Reads a path out of untyped JSON (API responses in tests), without `any`.
export const dig = (value: unknown, ...path: readonly (string | number)[]): unknown => {
  let at = value;
  for (const key of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string | number, unknown>)[key];
  }
  return at;
};

// Struct layouts: every field is one Int32 word; `name[n]` declares an inline array of n words.
// Offsets are word offsets from the object's base (a word index into the arena).

type FieldName<F extends string> = F extends `${infer N}[${string}]` ? N : F;

export type Layout<F extends readonly string[]> = { readonly [K in FieldName<F[number]>]: number } & {
  readonly SIZE: number;
  readonly NAME: string;
};

export function defineStruct<const F extends readonly string[]>(name: string, fields: F): Layout<F> {
  const out: Record<string, number | string> = { NAME: name };
  let off = 0;
  for (const f of fields) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?$/.exec(f);
    if (!m) throw new Error(`defineStruct(${name}): bad field '${f}'`);
    const fname = m[1]!;
    if (fname in out) throw new Error(`defineStruct(${name}): duplicate field '${fname}'`);
    out[fname] = off;
    off += m[2] ? Number(m[2]) : 1;
  }
  out.SIZE = off;
  return out as unknown as Layout<F>;
}

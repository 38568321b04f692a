/**
 * kubectl sends `auth can-i` and `auth whoami` bodies as Kubernetes protobuf
 * (`application/vnd.kubernetes.protobuf`): the magic `k8s\0`, then a runtime.Unknown
 * {1: TypeMeta, 2: raw object}. This decodes just what the reviews need into the JSON shape
 * (k8s.io/api/authorization/v1/generated.proto: SelfSubjectAccessReview{2: spec},
 * spec{1: resourceAttributes, 2: nonResourceAttributes}). Answers go out as JSON, which the
 * client also accepts. Pure; throws ProtobufError on malformed input.
 */
export class ProtobufError extends Error {
  override readonly name = 'ProtobufError';
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Fields = Map<number, Buffer[]>;

function varint(buf: Buffer, pos: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (let i = pos; i < buf.length && shift < 64; i++) {
    const b = buf[i] as number;
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [value, i + 1];
  }
  throw new ProtobufError('truncated varint');
}

/** Length-delimited fields by number (other wire types are skipped: the reviews use none we read). */
function fields(buf: Buffer): Fields {
  const out: Fields = new Map();
  let pos = 0;
  while (pos < buf.length) {
    const [key, p] = varint(buf, pos);
    const wire = key % 8;
    const field = Math.floor(key / 8);
    pos = p;
    if (wire === 0) [, pos] = varint(buf, pos);
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [len, q] = varint(buf, pos);
      if (q + len > buf.length) throw new ProtobufError('truncated field');
      out.set(field, [...(out.get(field) ?? []), buf.subarray(q, q + len)]);
      pos = q + len;
    } else throw new ProtobufError(`unsupported wire type ${wire}`);
  }
  if (pos > buf.length) throw new ProtobufError('truncated message');
  return out;
}

const first = (f: Fields, n: number): Buffer | undefined => f.get(n)?.[0];

function strings(buf: Buffer | undefined, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!buf) return out;
  const f = fields(buf);
  names.forEach((name, i) => {
    const v = first(f, i + 1)?.toString('utf8') ?? '';
    // Go's JSON for these structs omits empty strings.
    if (v !== '') out[name] = v;
  });
  return out;
}

export function isProtobuf(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]?.trim() === 'application/vnd.kubernetes.protobuf';
}

/** The envelope's kind and apiVersion, and the review as its JSON shape. */
export function decodeReview(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw new ProtobufError('missing the k8s protobuf magic');
  const unknown = fields(body.subarray(4));
  const typeMeta = strings(first(unknown, 1), ['apiVersion', 'kind']);
  const raw = first(unknown, 2) ?? Buffer.alloc(0);
  const obj: Record<string, unknown> = { ...typeMeta };
  if (typeMeta.kind === 'SelfSubjectAccessReview') {
    const spec = fields(first(fields(raw), 2) ?? Buffer.alloc(0));
    const out: Record<string, unknown> = {};
    const ra = first(spec, 1);
    const na = first(spec, 2);
    if (ra) out.resourceAttributes = strings(ra, ['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name']);
    if (na) out.nonResourceAttributes = strings(na, ['path', 'verb']);
    obj.spec = out;
  }
  return obj;
}

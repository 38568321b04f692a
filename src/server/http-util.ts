/** HTTP status lines for uWS's writeStatus (it wants the reason phrase too). */
const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 303: 'See Other', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 408: 'Request Timeout', 409: 'Conflict', 410: 'Gone', 413: 'Payload Too Large',
  426: 'Upgrade Required', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function statusLine(code: number): string {
  return `${code} ${STATUS_TEXT[code] ?? 'Unknown'}`;
}

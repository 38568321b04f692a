/** jose's error codes (jose/dist/webapi/util/errors.js) to our refusal reasons. */
import { errors } from 'jose';
import { AuthError, type AuthFailure } from './errors.js';

function claimFailure(claim: string): AuthFailure {
  switch (claim) {
    case 'iss': return 'bad-issuer';
    case 'aud': return 'bad-audience';
    case 'nbf': case 'iat': return 'not-yet-valid';
    case 'exp': return 'expired';
    default: return 'bad-claim';
  }
}

export function authErrorFromJose(err: unknown): AuthError {
  if (err instanceof AuthError) return err;
  let reason: AuthFailure = 'malformed';
  if (err instanceof errors.JWTExpired) reason = 'expired';
  else if (err instanceof errors.JWTClaimValidationFailed) reason = claimFailure(err.claim);
  else if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) reason = 'bad-algorithm';
  else if (err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JWEDecryptionFailed) reason = 'bad-signature';
  else if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) reason = 'unknown-key';
  else if (err instanceof errors.JWKSTimeout || err instanceof TypeError || (err instanceof Error && err.name === 'TimeoutError')) reason = 'provider-unavailable';
  else if (err instanceof errors.JOSEError && err.code === 'ERR_JOSE_GENERIC') reason = 'provider-unavailable';
  return new AuthError(reason, { cause: err });
}

import { describe, expect, it } from 'vitest';
import { sdpFingerprint } from '../../src/core/net/sdp-fingerprint.ts';

// A data-channel-only offer as Chromium writes it (CRLF line ends, mDNS host candidate).
const CHROMIUM_OFFER = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 0.0.0.0',
  'a=candidate:2999745851 1 udp 2122260223 6f1e8a2c-5b1d-4c8e-9d7f-0a3b2c1d4e5f.local 56143 typ host generation 0 network-id 1',
  'a=ice-ufrag:EsAw',
  'a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F',
  'a=setup:actpass',
  'a=mid:0',
  'a=sctp-port:5000',
  'a=max-message-size:262144',
  '',
].join('\r\n');

const EXPECTED = 'sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F';

describe('sdpFingerprint', () => {
  it('reads the DTLS fingerprint from a Chromium offer', () => {
    expect(sdpFingerprint(CHROMIUM_OFFER)).toBe(EXPECTED);
  });

  it('gives the same answer for LF line ends and a fingerprint on the last line without newline', () => {
    expect(sdpFingerprint(CHROMIUM_OFFER.replace(/\r\n/g, '\n'))).toBe(EXPECTED);
    expect(sdpFingerprint(`v=0\r\na=fingerprint:${EXPECTED}`)).toBe(EXPECTED);
  });

  it('normalises case: algorithm lower, hex upper', () => {
    const mixed = CHROMIUM_OFFER.replace('sha-256 D2:FA:0E', 'SHA-256 d2:fa:0e');
    expect(sdpFingerprint(mixed)).toBe(EXPECTED);
  });

  it('reads a session-level fingerprint (Firefox puts it before the m= line)', () => {
    const firefox = [
      'v=0',
      'o=mozilla...THIS_IS_SDPARTA-99.0 7752189208823254096 0 IN IP4 0.0.0.0',
      's=-',
      't=0 0',
      'a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08',
      'a=group:BUNDLE 0',
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
      'a=sctp-port:5000',
      '',
    ].join('\r\n');
    expect(sdpFingerprint(firefox)).toBe(
      'sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08',
    );
  });

  it('returns null when there is no usable fingerprint', () => {
    expect(sdpFingerprint('')).toBeNull();
    expect(sdpFingerprint(CHROMIUM_OFFER.replace(/^a=fingerprint:.*\r\n/m, ''))).toBeNull();
    expect(sdpFingerprint('v=0\r\na=fingerprint:sha-256\r\n')).toBeNull();
    expect(sdpFingerprint('v=0\r\na=fingerprint:sha-256 ZZ:11\r\n')).toBeNull();
    // Not at the start of a line: an attribute value that merely mentions it.
    expect(sdpFingerprint(`v=0\r\na=tool:a=fingerprint:${EXPECTED}\r\n`)).toBeNull();
  });

  it('distinguishes different certificates', () => {
    const other = CHROMIUM_OFFER.replace('E6:0F', 'E6:0E');
    expect(sdpFingerprint(other)).not.toBe(sdpFingerprint(CHROMIUM_OFFER));
  });
});

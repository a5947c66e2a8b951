/*
 * cmw.h - how an attested TLS certificate carries its evidence
 * (docs/sockets.md, "Attested TLS"): the RATS conceptual message wrapper
 * (draft-ietf-rats-msg-wrap) in its X.509 extension id-pe-cmw, not
 * critical, the value the DER of CMW's json choice (a UTF8String) holding a
 * JSON record:
 *
 *   ["application/vnd.elastic-hal.evidence+json", "<base64url of the
 *    evidence envelope, unpadded>", 4]
 *
 * (4: the indicator bit for evidence).  The envelope is docs/evidence.md's,
 * with report-data = "ELASTIC-HAL-RATLS-V1:" || SHA-256 of the
 * certificate's SubjectPublicKeyInfo (DER).  The HAL makes no evidence
 * with that prefix for anyone else (src/attest/attest.h), so evidence a
 * workload asked for cannot be wrapped in a certificate for another key.
 */
#ifndef EHAL_VERIFY_CMW_H
#define EHAL_VERIFY_CMW_H

#define EHAL_CMW_OID "1.3.6.1.5.5.7.1.35" /* id-pe-cmw */
#define EHAL_CMW_SN "id-pe-cmw"
#define EHAL_CMW_LN "RATS Conceptual Message Wrapper"
#define EHAL_CMW_MEDIA_TYPE "application/vnd.elastic-hal.evidence+json"
#define EHAL_CMW_IND_EVIDENCE 4
#define EHAL_RATLS_REPORT_DATA_PREFIX "ELASTIC-HAL-RATLS-V1:"

#endif

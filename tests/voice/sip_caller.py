"""A scripted SIP caller built on pjsua2's own player and recorder (run as a separate process: one pjsua2 endpoint per
process). It calls ``--uri``, plays ``--play`` into the call after ``--play-after`` seconds, sends DTMF (RFC 2833) at
given times, records what it hears to ``--record``, and hangs up after ``--duration`` seconds unless the other side hangs
up first. Prints one JSON line: {"connected", "hung_up_by", "seconds", "status"}.

    python tests/voice/sip_caller.py --uri sip:zhiban@127.0.0.1:5070 --play q.wav --record a.wav --dtmf "*@6" --duration 12
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pjsua2 as pj

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script
from voice.phone.sip import items


class Caller(pj.Call):  # type: ignore[misc]
    def __init__(self, account: pj.Account) -> None:
        super().__init__(account)
        self.confirmed_at = 0.0
        self.disconnected = False
        self.status = 0
        self.audio: Any = None

    def onCallState(self, prm: Any) -> None:
        info = self.getInfo()
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED and not self.confirmed_at:
            self.confirmed_at = time.monotonic()
        if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.disconnected = True
            self.status = info.lastStatusCode

    def onCallMediaState(self, prm: Any) -> None:
        info = self.getInfo()  # keep it: its media point into it
        for media in items(info.media):
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                self.audio = self.getAudioMedia(media.index)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uri", required=True)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--play", default="")
    parser.add_argument("--play-after", type=float, default=1.0)
    parser.add_argument("--record", default="")
    parser.add_argument("--dtmf", action="append", default=[], help="DIGITS@SECONDS after the call is answered")
    parser.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args()

    endpoint = pj.Endpoint()
    endpoint.libCreate()
    config = pj.EpConfig()
    config.uaConfig.threadCnt = 0
    config.uaConfig.mainThreadOnly = True
    config.logConfig.consoleLevel = int(os.environ.get("CALLER_LOG", "1"))
    config.medConfig.noVad = True
    endpoint.libInit(config)
    transport = pj.TransportConfig()
    transport.port = 0
    transport.boundAddress = args.bind
    endpoint.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport)
    endpoint.audDevManager().setNullDev()
    endpoint.libStart()
    account_config = pj.AccountConfig()
    account_config.idUri = f"sip:caller@{args.bind}"
    account_config.mediaConfig.transportConfig.boundAddress = args.bind
    # RTP ports of its own: the endpoint under test takes pjsua's default 4000 on the same address
    account_config.mediaConfig.transportConfig.port = 30000 + os.getpid() % 10000 * 2
    account = pj.Account()
    account.create(account_config)

    call = Caller(account)
    call.makeCall(args.uri, pj.CallOpParam(True))
    player = recorder = None
    dtmf = sorted((float(item.split("@")[1]), item.split("@")[0]) for item in args.dtmf)
    started = time.monotonic()
    hung_up_by = "caller"
    while True:
        endpoint.libHandleEvents(10)
        now = time.monotonic()
        if call.disconnected:
            hung_up_by = "callee" if call.confirmed_at else "refused"
            break
        if not call.confirmed_at:
            if now - started > 10:
                break
            continue
        if call.audio is not None and args.record and recorder is None:
            recorder = pj.AudioMediaRecorder()
            recorder.createRecorder(args.record)
            call.audio.startTransmit(recorder)
        elapsed = now - call.confirmed_at
        if call.audio is not None and args.play and player is None and elapsed >= args.play_after:
            player = pj.AudioMediaPlayer()
            player.createPlayer(args.play, pj.PJMEDIA_FILE_NO_LOOP)
            player.startTransmit(call.audio)
        while dtmf and elapsed >= dtmf[0][0]:
            call.dialDtmf(dtmf.pop(0)[1])
        if elapsed >= args.duration:
            call.hangup(pj.CallOpParam(True))
            for _ in range(50):
                endpoint.libHandleEvents(10)
                if call.disconnected:
                    break
            break
    seconds = time.monotonic() - call.confirmed_at if call.confirmed_at else 0.0
    print(json.dumps({"connected": bool(call.confirmed_at), "hung_up_by": hung_up_by, "seconds": seconds,
                      "status": call.status}), flush=True)  # fmt: skip
    del player, recorder, call
    account.shutdown()
    endpoint.libDestroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())

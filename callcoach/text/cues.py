"""The built-in cue library: the phrases the scorecard, the roles and the text events look for, as
patterns for :mod:`callcoach.text.phrases` (pattern syntax there)."""

from __future__ import annotations

from callcoach.text.phrases import CueSet, cue_set

# --------------------------------------------------------------------------- the cue library
# Patterns are written over normalised tokens: "i'm" is "i am", "can't" is "can not",
# "you'll" is "you will", numbers are digits. Second item of a tuple = better phrasing.

_CALM = "I can hear this has been really frustrating; let's sort it out together."
_CAN_DO = "Here's what I can do for you: ..."
_OWN = "Let me find the right person for this and make sure it gets handled."
_STEPS = "The quickest way to get this done is ..., and I'll walk you through it."
_FOOLPROOF = "idiot|idiots|moron|fool|dummy proof"  # "idiot-proof" describes a thing, not a person

BUILTIN_CUES: dict[str, CueSet] = {
    "acknowledge": cue_set("acknowledge", [
        "i *2 understand *4 {feel}", "i *1 understand how *2 feel",
        "i *1 can|could *1 see|hear|tell|imagine *4 {feel}",
        "i *1 can|could *1 see|understand why", "i can imagine",
        # "I can't imagine how stressful"; not "I can't see how that is frustrating"
        "i can|could not *1 imagine|hear how *4 {feel}", "i can|could not imagine how",
        # the "I" lost at a turn change: "can't hear how frustrating this has been" for "I can hear ..."
        "can|could not? *1 hear|imagine how *4 {feel}", "can|could *1 see how *4 {feel}",
        "that|this|it must *3 {feel}", "that|this|it sounds *4 {feel}",
        "that|this|it is|was *2 {feel}", "that|this|it has been *2 {feel}", "is|are|was|were *1 {intens} {feel}",
        "i *1 completely|totally|fully|really? understand .",
        # the same with the full stop lost to the recogniser: "I understand I can refund it now"
        "i *1 completely|totally|fully|really? understand i|we|let|and",
        "understand why|how you *3 {feel}",  # "I" lost: "understand why you're annoyed"
        "i would|will *1 feel *1 same", "i feel *1 the same way", "i would be *2 {feel} too|as|if|in",
        "every right|reason to be *2 {feel}", "understandable", "no wonder you",
        "i hear you", "i hear how|that|what", "of course you are *2 {feel}",
        "i *1 know|realize|appreciate|get *1 how|this|that|why *4 {feel}",
        "anyone would be *2 {feel}", "i am sorry you are|were|have *2 {feel}",
    ], excludes=["why are|were *1 you *2 {feel}", "is it *4 {feel}", "do not understand", "understand *1 your account"],
        examples=("I understand how frustrating this must be for you",
                  "I can see why this would be upsetting",
                  "That sounds really stressful", "I'd feel exactly the same in your shoes",
                  "Your frustration makes complete sense",
                  "Anyone in your position would feel let down",
                  "That is a lot to deal with", "I completely get why this bothers you"),
        questions=False),
    "apology": cue_set("apology", [
        "sorry", "apologize", "apologizing", "apologized", "apology",
    ], excludes=[
        "sorry *1 can|could|would you *2 repeat|say|spell|speak|hold|give|confirm|tell",
        "sorry *2 what|pardon|come|again", "sorry *1 i *2 not *1 catch|hear|get",
        "sorry *1 if *2 you", "sorry *1 that? you feel|think|believe", "sorry *1 that? you see it",
        "sorry but", "sorry *1 to interrupt|bother|cut", "sorry *1 one|a|1 sec|second|moment|minute",
        "sorry *1 which|who", "why *4 apologize|apology|sorry", "want|expect|demand|get *3 apology",
        "want *2 me to *1 apologize|say", "you *2 be sorry", "say sorry", "sorry for asking",
        "sorry *1 i *1 misheard", "sorry *1 go ahead", "sorry *1 say that",
    ], examples=("I'm truly sorry for all the trouble this has caused",
                 "Please accept my apologies for the mix-up",
                 "I'm really sorry you've had to deal with this",
                 "We apologize for the inconvenience",
                 "I feel bad that this happened to you", "Apologies again for the wait"),
        questions=False),
    "paraphrase": cue_set("paraphrase", [
        "make sure *3 understand|understood|got|have|heard|right|straight|clear",
        "what you are|were saying", "so you are saying", "you are telling me",
        "if i *1 understand|understood|heard|follow *2 correctly|right",
        "if i am understanding|hearing", "if i have|got *3 right|correctly",
        "just to|a confirm|clarify|recap|summarize", "just to check",
        "just to concern",  # tiny.en's "just to confirm" on a telephone line
        "just so *2 on the same page",
        "let me *1 recap|summarize", "let me *1 repeat|read *2 back", "let me *1 confirm *2 understand",
        "in other words", "to sum up", "so to summarize", "what i am hearing",
        "correct me if i am wrong", "so basically you", "so the problem|issue is",
        "so what happened is", "so you have been|were|had|got|received",
        # the customer's experience restated: "so each time you've been told it's with finance"
        "so *3 you have been|were *1 told|waiting|charged|given|sent|promised|left|asked|cut|passed|transferred",
        "it sounds like you are|were|have *1 saying|been|had|received|got",
        "let me *1 check *2 understand",
        # checking one has the problem right, with or without "if": "just so I've got this right: ...",
        # "have I got that right?", "let me see if I have this straight"
        "i have|got *2 this|that|it|everything|all *1 right|straight|correct|correctly|clear",
        "have|did i got|get|understood|understand *2 that|this|it|everything *1 right|correctly|correct|straight",
    ], excludes=["make sure *2 this|it *1 never|does", "make sure you", "do not understand",
                 "what are you saying"],
        examples=("Let me make sure I understood the problem correctly",
                  "So if I follow you, the order arrived damaged",
                  "Just so we're on the same page, you were charged twice",
                  "So the delivery went to the wrong house, correct?",
                  "So you were charged for something you returned, is that right?")),
    "open_question": cue_set("open_question", [
        "can|could|would you *2 tell|walk|share|explain|describe|talk *3 more|what|how|when|which|where|why|whether|about|details|through|happened",
        "tell me *2 more|about|what|how|exactly", "walk me through",
        # the walk-through idiom survives a misheard verb ("can you want me through what you found")
        "@ me through what|how|exactly|everything|it|that|the|your|each",
        "what *1 happened|went|seems", "what is going on", "how did *3 happen|start|go|begin",
        "when did *3 start|begin|happen|notice", "help me understand", "what else",
        "what did you *1 see|notice|try|get|expect|do", "what were you *1 trying|doing|expecting",
        "what can i *1 do *2 help|right|better",
        "what would *3 help|like|work|fix", "how has *3 affected", "what exactly",
        "share *2 details|more", "can you describe", "how is *3 affecting|working",
        "what is *1 happening", "what *1 happens",
        # a wh-question about the customer's own experience or use: "how are you finding the connection",
        # "what do you mostly use it for", "how often does it happen", "why do you think it stopped"
        "what|how|why do|did|are|were|have|would you *2 {experience}",
        "how often|long|many times|much *4 happen|happens|happened|happening|it|this|that",
    ], excludes=["tell me your", "not *3 tell", "can not tell", "i can not explain",
                 "is|that|this what happens", "what happens next|now|then|is"],
        examples=("Could you tell me more about what happened",
                  "Walk me through what you saw on the screen",
                  "What happened when you tried to log in?",
                  "What do you see on the screen right now", "How did it all begin",
                  "What matters most to you here"),
        announcements=False),
    "ownership": cue_set("ownership", [
        "that|this|it is|was *1 on us|me", "i will *1 take care of", "i will *1 make sure",
        "i am going to *1 make sure", "i am going to *1 take care", "i am going to *1 sort|fix|handle",
        "we|i *1 made *1 a|an|the *1 mistake|error", "we messed|screwed|slipped up",
        "we got *2 wrong", "our|my *1 mistake|fault|error|bad",
        "i *1 take *1 full|complete|personal? responsibility", "we take *1 responsibility",
        "we dropped the ball", "we should have", "i should have", "leave it with me",
        "i will *1 own", "let me *1 take care of", "i will *1 see *2 through",
        "i will *1 personally *3", "we let you down", "i will *1 sort *2 out",
        "i will *1 fix *1 this|it|that", "i will *1 handle *1 this|it|that",
        "i will *8 and make sure", "make sure the|your|this|that|these|those *3 is|are|gets|get|goes|go|will|arrive|arrives",
        # admitting the company's side erred: "that reply should never have gone out", "a mistake on our side"
        "should never|not have *3 happened|gone|been|reached|sent|charged|taken|left|come|arrived|got|applied|done|said|told|billed|closed|cancelled",
        "mistake|error|fault|failure|slip on|from|at our|my",
    ], excludes=["on you", "you *1 should|could never|not have", "did we", "not *2 our|my *1 fault|mistake|problem|responsibility",
                 "can|could|would|will you *2 make sure", "please *1 make sure", "you *1 should|must make sure", "you *1 need to make sure"],
        examples=("That's our mistake and I'll put it right", "We got this wrong, and I'm owning it",
                  "This one is on us, I'll handle it personally",
                  "I'm responsible for this now and I'll follow it to the end",
                  "Consider it handled, I'm looking after this myself"),
        questions=False),
    "solution": cue_set("solution", [
        "i|we *1 can|will|could|would *2 {give} *5 {remedy}",
        "i|we *1 can|will|could|would *2 {give} *2 you|it|this|that|a|an|the",
        "i|we am|are going to *1 {give}", "i have *1 {give}|issued|processed|sent|applied|credited|refunded|booked|scheduled|arranged|ordered|reset|fixed|waived|reversed|added|expedited|upgraded",
        "as an alternative", "another|other option", "1 option is", "the best option",
        "i *1 can|will expedite", "happy to *2 {give}", "let me *1 {give} *3 {remedy}",
        "let me *1 {give} *2 you|that|this|it", "i have gone ahead", "how about i|we",
        "would you like *2 {remedy}", "would you like me to *1 {give}",
        "what i can do is", "here is what i *1 can|will *1 do", "we can|could *1 try",
        "i can *1 offer", "you can have *2 {remedy}",
        "i will|can *1 take care of|sort|handle|fix *2 {remedy}|correction|adjustment|charge|bill",
        "your *1 corrected|adjusted|updated|revised|reduced|new bill|balance|amount|invoice|price|total",
        "make sure the|your *3 is|are|gets|get *1 reviewed|fixed|processed|sent|refunded|sorted|resolved|corrected|replaced|paid|credited|released|approved|done",
        "is|are *2 included|covered|automatic", "includes|covers *3 roaming|calls|data|it|this|that|you",
        "your *2 includes|covers", "i|we will *1 {give}|block|freeze|move|switch|book|get",
        "i will *1 make sure", "{remedy} *2 will|is|has *1 go|be|been|on", "move|switch|transfer you to|for|into|onto",
        # "I'll refund" with the "'ll" lost by the recogniser
        "i refund|credit|waive|wave|reimburse|replace *2 the|your|it|them|that|this|you",
        "there is *1 a|an *2 slot|appointment|space|opening|table|seat|room|flight|train|engineer|technician",
        "next|earliest|first *2 slot|appointment|available|opening",
        "that|it is|has *1 booked|done|sorted|fixed|arranged|confirmed|cancelled|scheduled|canceled",
        "open|closed from|until|till|between", "it will *1 go|be|start|come *1 solid|back|ready|working|fixed|on",
        # a remedy under way as the agent speaks: "I'm taking the charge off right now", "we're sending a new one"
        "i|we am|are *1 just|now? taking|putting|sending|refunding|crediting|adding|waiving|issuing|booking|arranging|processing|removing|cancelling|canceling|upgrading|replacing|reversing|releasing|applying|switching|moving|fixing|resetting|ordering|expediting",
        # a remedy done: "I've just pushed it through", "it's released now", "I can have it live on Friday"
        "i have *1 just|now? pushed|put|released|approved|cleared|removed|taken|cancelled|canceled|unblocked|unlocked|reactivated|restored|rebooked|renewed|extended|lowered|corrected|updated|changed|switched|moved",
        "that|it|this is|has *1 been? released|approved|cleared|processed|refunded|credited|reversed|removed|waived|unblocked|restored|rebooked|corrected|replaced|expedited",
        "i|we can|will|could have *2 it|this|that|them|you|one *1 live|ready|installed|fixed|working|delivered|connected|sorted|running|up|back|out|there|on",
        "i|we would *1 suggest|recommend", "my suggestion|recommendation",
        # the remedy named with what brings it: "so we'd need to send an engineer out"
        "send|sending|book|booking|arrange|arranging *3 {remedy}",
    ], excludes=["can not", "will not", "nothing", "unable", "no way"],
        examples=("I'll send a replacement out today",
                  "I can put a credit on your account for the overcharge",
                  "Another option would be to switch you to the monthly plan",
                  "I can post a new one out to you",
                  "A new one is being sent to you today",
                  "The fee has been taken off your account"),
        questions=False),
    "next_steps": cue_set("next_steps", [
        "you will *1 receive|get|see|hear|have", "within # *1 {time}", "in *1 the next # *1 {time}",
        "in # *1 {time}", "in|within a|an|the *1 {time}", "by *2 {when}", "i will *1 follow up", "follow *1 up",
        "i will *1 {contact} *3 you", "we will *1 {contact} *3 you", "i will *1 let you know",
        "we will *1 let you know", "reference|ticket|case|confirmation|tracking|claim number",
        "i will *1 send *2 confirmation|email|text|update|link|summary|letter",
        "next step|steps", "what happens next", "will *1 call|contact|visit|email|text you",
        "expect *4 by|within|in|{when}", "should *1 arrive|reach|show|appear|clear", "should be there",
        "give it # *1 {time}", "end of *1 day|week|business", "i will call you back",
        "you should *1 see|receive|get|hear", "ready *3 after|by|from|at|{when}",
        "will *4 within|before *1 {when}", "will be ready for|to *1 collection|pickup|collect|pick",
    ], excludes=["did you *1 receive|get|see", "you will|would *1 have|need to", "do|did you have *2 reference|ticket|case|confirmation|tracking|claim number"], negation_window=5,
        examples=("You'll get an email confirmation in the next hour",
                  "I'll ring you on Friday to check it's fixed",
                  "Your case reference is 4 4 7 1",
                  "We'll email you the details once it's done",
                  "I'll give you a ring later this week to see how it's going"),
        questions=False),
    "escalation": cue_set("escalation", [
        "connect|transfer|put|pass|refer|bring *4 {boss}", "escalate|escalated|escalating *2 this|it|your|that|to",
        "i will|can *1 escalate", "would you like *3 speak|talk *3 {boss}",
        "i can *1 get *3 {boss}", "have *2 manager|supervisor *2 call|contact|ring",
        "raise|flag *2 this|it *2 with|to *2 {boss}", "speak|talk *1 to|with *2 manager|supervisor",
        "get *2 manager|supervisor *2 on|involved", "bring in *2 manager|supervisor",
        "my|a|the|our team? manager|supervisor|leader *1 will|can|shall|is *2 call|contact|ring|phone|email|review|look|reach",
        # a call back arranged from a superior: "I'll book you a callback from my team leader"
        "callback|call|ring back? from *3 {boss}",
        "{boss} *2 to *1 call|ring|phone|contact *1 you",
        # the verb lost to the recogniser: "I last collected this to my manager now"
        "this|it to my|our|a manager|supervisor",
        # fetching or handing over to a superior: "let me get my manager", "see if my supervisor is free"
        "get|fetch|find|ask|grab|hand|involve|if|whether|handing|getting *5 {chief}|leader",
        "someone|somebody|person|colleague *2 senior|charge|above|higher",
    ], excludes=["{boss} will say", "{boss} *2 is not", "do not need *3 {boss}",
                 "no *1 manager|supervisor", "asking for *2 manager|supervisor",
                 "not *3 escalate|transfer|connect"],
        examples=("Let me get my supervisor on the line for you",
                  "I'm going to raise this with our complaints team right now",
                  "I'll get a senior colleague to sign this off",
                  "Let me pass this up to my team leader"),
        questions=False),
    "handover": cue_set("handover", [
        # the agent handing the call up after the customer asked for someone higher: "before I pop you through",
        # "I'll transfer you", "a callback from my team leader" (the superior named in the agent's own arrangement)
        "transfer|transferring you", "put|pop|pass|connect|putting|popping|passing|connecting|send|get|getting you *1 through|over|across",
        "my|our team? leader|manager|supervisor|boss",
    ], excludes=["{boss} will say", "{boss} *2 is not", "no *1 manager|supervisor", "{boss} *3 not *1 available|here|in",
                 "{boss} *2 would|will *1 say|tell|just", "{boss} can not", "not *3 transfer|connect|put"]),
    "boundary": cue_set("boundary", [
        "keep *4 respectful|respect|civil|professional|polite|calm",  # "respect" as the recogniser hears "respectful"
        "please *2 stop|not *1 swearing|swear|shouting|shout|yelling|yell|insulting|insult|cursing|curse|calling|call *1 me?",
        "please *2 stop|not *1 use|using *2 that|this|such|language",
        "not *3 continue|tolerate|accept", "be spoken|talked",
        "not *1 going to *1 tolerate|accept", "if the *3 continues", "if *2 continue to|keep",
        "have to *1 end|terminate|disconnect|close *3 call|conversation",
        "no need for *3 language|swearing|abuse|insults|name", "i do not accept|tolerate",
        "not *1 okay|acceptable *1 to *1 speak|talk|call|swear|shout",
        "speak|talk to me *1 respectfully", "speak|talk to me *1 with respect", "speak|talk to me like that", "be respectful",
        "i want to help *6 but *6 respectful|language|continue|tolerate|abuse",
        "that language|tone", "that kind of language",
    ], excludes=["continue without", "continue *2 with your|the process|the order|waiting",
                 "do not worry", "call me back|if|when|on|at"],
        negatable=False,
        examples=("I want to help, but I need us to keep this respectful",
                  "Please don't speak to me that way, I'm trying to help you")),
    # ------------------------------------------------------------- flagged (negative) cues
    "negative_language": cue_set("negative_language", [
        ("i *1 can not *1 help|do|give|change|refund|fix|offer|process|make|issue|send|override|waive|promise|guarantee|approve|cancel|access|find|see|speed|get|transfer", _CAN_DO),
        ("i *1 am *1 not able to", _CAN_DO), ("i *1 am unable to", _CAN_DO),
        ("nothing *2 i|we *1 can do", _CAN_DO), ("not *1 possible", _CAN_DO),
        ("is impossible", _CAN_DO),
        ("not my|our *1 department|job|problem|area|responsibility|fault|team", _OWN),
        ("you will|would *1 have|need to", _STEPS), ("you have to", _STEPS),
        ("you need to *1 call|go|wait|contact|send|email|visit|fill|speak|phone|ring", _STEPS),
        ("it|that|this is *2 policy", "Here's what our process lets me do for you: ..."),
        ("company|our|the policy *2 says|is|does", "Here's what our process lets me do for you: ..."),
        ("we do not *1 do|allow|offer|accept|have|give", _CAN_DO),
        ("i am not allowed", _CAN_DO), ("no way", _CAN_DO), ("out of my hands", _OWN),
        ("that is *1 not *1 something|what *1 we|i *1 do|offer|handle", _CAN_DO),
        ("there is nothing", _CAN_DO), ("we can not", _CAN_DO), ("i will not be able", _CAN_DO),
    ], excludes=["not *6 but *6 i|we can", "not *6 but *6 here is", "not *6 but *6 let us",
                 "not *6 but *6 the best", "not *6 but *6 i will",
                 "all you have to do", "you do not have to",
                 # relief, not a demand: "you won't need to do anything", "you would not have to pay"
                 "you will|would not *1 have|need to", "no way *2 to *1 tell"],
        negatable=False),
    "provocation": cue_set("provocation", [
        ("calm down", _CALM), ("relax", _CALM), ("you are *1 wrong", "Let me check that with you; here's what I'm seeing on my side."),
        ("that is *1 not true", "Let me check that with you; here's what I'm seeing on my side."),
        ("as|like i *1 already|just? *1 said|told|mentioned|explained", "Let me explain it another way, because I may not have been clear."),
        ("i already told|said|explained", "Let me explain it another way, because I may not have been clear."),
        ("you need to *1 listen|calm|understand|relax", "I want to make sure we're on the same page, so let me walk you through it."),
        ("listen to me", "I want to make sure we're on the same page, so let me walk you through it."),
        ("you are not listening", "I want to make sure we're on the same page, so let me walk you through it."),
        ("are you *1 even listening", "I want to make sure we're on the same page, so let me walk you through it."),
        ("no need to *1 get|be *2 upset|angry|worked|emotional|excited|rude|dramatic", _CALM),
        ("you are *1 overreacting", _CALM), ("you are being *2 unreasonable|ridiculous|rude|difficult|dramatic", _CALM),
        ("stop *1 complaining|whining|moaning", _CALM), ("not a big deal", "I understand this matters to you; let's fix it."),
        ("whatever", _CALM), ("if you had *1 read|listened|checked|bothered", "Let's look at what we can do from here."),
        ("you should have *1 read|checked|called|listened|known", "Let's look at what we can do from here."),
        ("that is your problem", _OWN), ("i do not care", _CALM), ("what do you want me to do", _CAN_DO),
        ("with all due respect", "I hear you, and here's how I can help."),
        ("how many times", "Let me explain it another way, because I may not have been clear."),
        ("sorry *1 you feel|think *1 that way|so", "I can see this hasn't gone the way you expected; let's fix that."),
        ("take a deep breath", _CALM), ("be reasonable", _CALM), ("obviously", "Let me walk you through it."),
    ], excludes=["can|could|will *1 relax", "want to relax", "help you relax", "relax *1 the|your|our|a", "things *3 calm down",
                 "should calm down", "to calm down the", "not that you are wrong",
                 "whatever you *1 need|want|prefer|like|decide|choose",
                 "whatever *1 works|is|suits|happens",
                 # "whatever" opening a clause ("whatever happened on the call") is a relative pronoun,
                 # not the dismissive retort
                 "whatever happened|happen|you|the|it|we|they|i|he|she|your|time|way|reason|day|else"],
        negatable=True),
    "unprofessional": cue_set("unprofessional", [
        "{profane}", "you are *3 {insult}", "you {insult}", "idiot|idiots|moron|morons|imbecile",
        "shut up", "stupid|dumb *1 woman|man|customer|people|person|question",
        "piss off", "bloody", "hell",
    ], excludes=[
        # "not stupid", "not an idiot", "not calling you stupid"; not "wasn't late, you moron"
        "not *1 {insult}", "not calling|call you *1 {insult}", "no *2 {insult}", "call|called|calling me *2", "no stupid",
        "hell of a", "hello", "shut up shop", "nobody is *1 {insult}", _FOOLPROOF],
        negatable=False),
    "abuse_named": cue_set("abuse_named", [
        # the agent names the customer's abusive conduct ("please don't use that language")
        "that|this|such|your|the|bad|foul|abusive|offensive|strong|of *1 language",
        "swearing|swear|swore|cursing|curse|profanity|profanities|insults|insult|insulting|abuse|abusive|abusing|disrespectful|disrespect",
        "threaten|threatening|threatened|threats",  # "I can't continue if you threaten us"
        # asking for respect says it was missing: "let's keep this respectful so we can sort it out"
        "respectful|respectfully|respect",
        "call|calling|called *1 me *1 names", "spoken|talked|speak|talk to *1 like that|this",
    ], excludes=["language setting|settings|option|options|preference|line|barrier"], negatable=False),
    "reflect_want": cue_set("reflect_want", [
        # the agent restating what the customer wants ("you want to use your plan abroad")
        "you want|wanted", "you would like", "you are|were hoping|looking|wondering|trying",
    ], excludes=["do|did|does|would|will|if|what|when|whatever|whenever|anything|everything|where|how|unless|as|which|whichever you",
                 # "you'll want to restart it": advice, not a restatement
                 "you *1 want to *1 try|avoid|restart|reboot|reset|press|unplug|hold|keep|check|clear|reinstall|turn",
                 "you *1 want to make sure", "you are|were looking at"]),
    # ------------------------------------------------------------- customer side
    "customer_wants": cue_set("customer_wants", [
        "i *1 want|wanted|need|needed", "i would like", "i am|was hoping|looking|wondering|trying",
    ], negation_window=2),
    "grievance": cue_set("grievance", [
        "ridiculous|unacceptable|outrageous|absurd|disgraceful|disgusting|appalling|shocking|insane|joke|pathetic",
        "complain|complaint|complaining",
        "still *2 not|waiting|broken|nothing", "still no",
        "been waiting", "never *1 arrived|came|received|worked|fixed|delivered|called|got|showed",
        "not *1 arrived|working|work|fixed|resolved|delivered|refunded|received|happy|acceptable|okay|fair|right",
        "not good enough",
        "did not *1 arrive|work|get|receive|come|show", "did not turn up",
        "is|was|are|were|arrived|came *1 broken|damaged|wrong|faulty|missing|late|defective|cracked|dead",
        "charged *2 twice|double|wrong|again", "charged too much", "overcharged", "double charged",
        "fed up", "sick and tired", "sick of", "i am *2 {anger}", "{anger} *1 about|that|with",
        "was|is|got|been ruined", "hold for # *1 {time}", "on hold for", "my broken|damaged|faulty|missing",
        "worst|terrible|awful|horrible|poor|bad|lousy *1 service|experience|company|customer|support",
        # the normaliser writes "no one" as "no 1"
        "nobody|noone *1 has|ever|called|helped|told|bothered|answered|answers|cares|listens|calls",
        "no 1 *1 has|ever|called|helped|told|bothered|answered|answers|cares|listens|calls",
        "leaking|leaks|flooded|flooding", "higher|more than *2 quote|quoted|expected|agreed|promised|advertised",
        "#|third|fourth|fifth|2nd|3rd|4th|5th time", "called|rang|rung|phoned|tried|asked|told|written|emailed|chased *4 # times", "# times now|already|before|this|in",
        "want|need *1 my|a *1 money|refund *1 back?", "cancel my", "you people",
        "what|why the hell", "lost|missing *2 package|order|parcel|money|payment|delivery",
        "keep|kept *1 getting|being *1 charged|disconnected|transferred|cut", "keeps *1 happening|dropping|crashing|breaking",
        "mistake|error on *2 bill|invoice|account|statement", "waste of *1 time|money",
        "this is not *1 okay|acceptable|right|fair", "hung up on me", "lied to me", "nobody cares",
        "thanks for nothing", "thank you for nothing",
        "keep|keeps|kept *2 showing|giving|throwing *2 error|errors",
        # annoyance at the situation is a complaint ("..., which is frustrating"); worry alone is distress
        "it|that|this|which is|was *2 {anger}",
        # a long wait or chasing, said plainly: "it's been nine weeks now", "than chase you lot"
        "been *2 # *1 days|weeks|months|years now", "chase|chasing|chased you|your|this|it|them",
        # blame in hindsight: "it would've been a lot quicker if you'd just listened"
        "would have been *4 if you", "if you had|would have *1 just|only? listened|told|checked|read|bothered|done|asked",
    ], excludes=["no complaints", "not complaining", "not *1 a *1 complaint", "nothing wrong"],
        negation_window=4),
    "escalation_request": cue_set("escalation_request", [
        # the customer asks for someone else, a supervisor or a manager, in any common wording:
        # the agent's superior named ("your manager", "a supervisor", "the boss") ...
        "your|a|the|some|any|another|get|for *1 {chief}", "team|line *1 leader|lead|manager",
        "the|your head of|office|honcho",
        # ... or someone other, higher or better placed, asked for with a verb
        "speak|talk|word|chat|speaking|talking|put|get|give|transfer|connect|pass|deal|want|need|with|to *3 "
        "someone|somebody|anyone|anybody|person|whoever *1 else|senior|higher|above|more|who|that|in|with|on",
        "someone|somebody|anyone|anybody else *3 speak|talk|deal|help|on|there",
        "anyone|anybody|someone|somebody|person|whoever *2 above|higher|senior|charge|authority",
        "over|above *1 your|you *1 head?", "higher up", "up the chain|ladder",
        "who is *1 your|in *1 {higher}", "put|transfer|pass|connect|send|forward|switch me *2 to|through|over *3 {higher}",
        "take|taking *1 this|it|that|things *1 higher|further", "escalate|escalated|escalating",
        # someone with the authority the agent lacks: "someone who can actually make a decision?"
        "someone|somebody|anyone|anybody|person who can|could *2 decide|make|authorise|authorize|approve|overrule|override",
    ], excludes=[
        "my|our|his|her|their *1 own? {chief}", "i am *2 {chief}", "as *1 a {chief}",
        # a report, not a request: "your manager told me", "I spoke to a supervisor"
        "{chief}|office *3 said|says|told|tells|called|asked|approved|rang|sent|emailed|wrote|promised",
        "spoke|spoken|talked|had *3 {chief}",
        "store|shop|branch|depot|site|restaurant|warehouse|hotel|property|building|account|project *1 {chief}",
        "in charge of *2 my|the|your|our", "{chief} *2 at|of|in|from *1 our|my", "someone|somebody|anyone|anybody else *2 having|has|had|used|collect|pick|sign|is",
        "go|going|went *1 with",
    ], negation_window=4),
    "leave_threat": cue_set("leave_threat", [
        # a closing complaint or a threat to take their custom elsewhere (an upset cue late in the call)
        "i|we am|are *1 done with *3 you|this|your|company|people|lot|service|business|bank|firm",
        "i am *1 done", "i|we am|are *2 cancelling|canceling",
        "i|we will *1 cancel *2 everything|account|contract|subscription|membership|policy|service|plan",
        "cancel *2 everything|whole|lot|all", "out of *2 contract|agreement|plan|deal|subscription",
        "switching|changing|switch|change|moving|move|going|go|went|moved|switched|take|taking *1 to|over|my *3 competitor|competitors",
        "to|over|at|for|with|find|get|try|use|look|looking|shop|shopping *1 a|an? another|other|different|new|rival|competing *1 {rival}",
        "switching|changing|switch|change {rival}",
        "go|going|went|take|taking|took|move|moving *3 elsewhere", "go|going|went|take|taking|took|move|moving *3 somewhere|someplace else",
        "go|going|went|be *1 with *1 someone|somebody *1 else",
        "lost|losing *1 a|another|your|my|me|us *2 customer|customers|business|custom",
        "i|we am|are *1 leaving", "last straw", "had enough *2 of *2 you|your|company|companies|people|service|lot|nonsense|rubbish",
        "end|ending|terminate|terminating|stop|stopping my|our *1 subscription|contract|membership|account|service|policy|plan",
        "move|moving|moved|transfer|transferring|take|taking my|our *1 account|accounts|business|money|custom|savings|mortgage",
        "never *3 use|using|shop|shopping|buy|buying|deal|dealing|order|ordering|come|coming|fly|flying|bank|banking *3 with|from|again|you",
        "last time *2 use|using|shop|shopping|buy|buying|deal|dealing|order|ordering|fly|flying|bank|banking|book|booking",
        "will not be *1 renewing|staying|returning|seeing|using|ordering|shopping|coming",
        "leave|leaving you|your|this *1 company|bank|lot?",
        "close|closing|shut|shutting *1 my|our|the *1 account|accounts",
        "my|our|the last *1 order|month|payment|bill|purchase|booking *2 with|from",
    ], excludes=[
        # "I'm done with the form", "once I'm done at work", "are you done", "I think I'm done, thanks"
        "done with *1 the|my|that|form|forms|paperwork|step|page|application|lunch|work|meal",
        "done at|for|in|by|now|yet|soon|already|typing|filling|reading|paying|eating|shopping|here|there|thanks|thank",
        "once|when|after|if|until|till|before i am *1 done", "are you *1 done", "all done",
        "leave|leaving you *2 review|reviews|message|note|voicemail|rating|number|details|feedback",
        "leaving the|for|on|at|in|home|work|now|tomorrow|today|soon|a|my|it|town|country|house|office|early|later",
        "account|accounts|money *1 to *1 my|the|a|new *1 address|name|home|card|joint",
        "go|going|went|take|taking|took *3 elsewhere *2 for|to *1 pick|collect|get",
    ], negation_window=3),
    "distress": cue_set("distress", [
        # the customer says they are worried or upset without blaming anyone (acknowledge applies)
        "i am *2 {worry}|{anger}", "i feel *2 {worry}|{anger}", "worried|scared sick", "please help me",
        "it|that|this|which is|was *2 {anger}",
        "i do not know what to do", "what do i do", "freaking out",
    ], negation_window=2),
    "settled": cue_set("settled", [
        # the customer settling down: thanks, relief, an apology of their own ("Okay. Sorry. I'm just stressed.")
        "thank you", "thanks", "that helps", "relief", "appreciate", "sorry", "that is *1 great|fine|perfect|good",
        # pleased: "Oh my gosh, you're a miracle worker", "Yeah, let's do it", "sounds good"
        "great|perfect|wonderful|awesome|brilliant|lovely|amazing|excellent|fantastic|miracle",
        "sounds good|fine|right", "makes sense", "let us do it|that",
    ], excludes=["thanks for nothing", "thank you for nothing", "no thanks", "sorry but", "you will be sorry", "be sorry",
                 # sarcasm: "oh great, another week", "just perfect"
                 "oh|just|well great|perfect|wonderful|brilliant|lovely|fantastic",
                 "great|perfect|wonderful|brilliant|lovely|fantastic *1 so|now|another|just"]),
    "request": cue_set("request", [
        # the customer brings a problem or a request (applicability of the resolution checks)
        "i *1 want|need|wanted|needed", "i *1 would like|love", "i *1 am|was *1 hoping|wondering", "what|how *1 should i", "can|could|would you *3 help|tell|check|explain|change|cancel|send|look|update|fix|sort|let",
        "i am *1 calling|ringing|phoning *2 about|because|to|regarding|for",
        "how *1 do|can|would|should i", "do|does|can|will *1 i|it|my|this *4 need|work|cover|include|have|get",
        "is|are there *1 a|any", "is it *1 possible", "i have|had|got *1 a|an|some *1 question|problem|issue|query",
        "problem|issue|wrong|error|mistake|broken|faulty|missing|overcharged",
        "not *1 working|work|arrived|received|right|correct", "does|did|do|is|has|have not",
        "higher|bigger|more|lower|larger|slower|worse|different than", "normally|usually *1 pay|get|have",
        "my *2 bill|account|order|plan|contract|payment|refund|claim|delivery|parcel|package|internet|phone|service|card|booking|subscription",
        "what about", "help me|with",
    ], negation_window=0, negatable=False),
    "threat_legal": cue_set("threat_legal", [
        "i *2 get|call|contact|hire|phone|ring *1 my|a *1 lawyer|lawyers|attorney|attorneys|solicitor|solicitors", "sue|suing", "lawsuit", "class action", "legal action", "legal *1 team|department|advice",
        "my|a|the *1 lawyer|lawyers|attorney|attorneys|solicitor|solicitors",
        "see|take *1 you|this|it|them *2 to|in court", "your company *2 to|in court", "court",
        "report|reporting *3 to *2 police|ombudsman|regulator|bbb|fcc|ftc|trading|better",
        "call|calling *1 the police|cops", "ombudsman|regulator|bbb|ftc|fcc",
    ], excludes=["court *1 date|order"], negation_window=4),
    "threat_violence": cue_set("threat_violence", [
        "i *3 kill|hurt|smash|smashing|punch|beat|hunt|shoot|burn|strangle|slap|stab", "i *3 find you",
        "smash|smashing *3 up",  # "smash the place up"
        "come down|over there *2 and", "watch your back", "you will *1 regret",
        "you will be sorry", "kill|hurt|punch|strangle|slap you", "i know where you",
        "wring your neck", "knock your", "break your", "you are dead", "dead man|woman",
    ], negation_window=4),
    "threat_review": cue_set("threat_review", [
        "leave|write|post|give|put *4 review|reviews|rating", "1|one|zero|0 star",
        "post|put|share|plaster|tell|telling *4 online|social|twitter|facebook|reddit|tiktok|instagram|internet|everyone|everybody",
        "go|going *1 to the *1 press|media|news|papers|newspaper", "trustpilot|yelp",
    ], negation_window=4),
    "insult": cue_set("insult", [
        "you are *3 {insult}", "you *1 {insult}", "idiot|idiots|moron|morons|imbecile|imbeciles|clowns|crook|crooks|scammers",
        "bunch of *2 {insult}", "shut up", "are you *2 stupid|deaf|dumb|thick|idiot",
        "wrong with you", "stupid|dumb|useless|incompetent *1 woman|man|girl|boy|bot|people|company|person|machine|bank|shop|firm|lot|bunch",
        "piss off", "get lost", "go to hell",
    ], excludes=[
        # "not stupid", "not an idiot", "not calling you stupid"; not "wasn't late, you moron"
        "not *1 {insult}", "not calling|call you *1 {insult}", "no *2 {insult}", "you {insult} *1 thing", _FOOLPROOF,
        # "what's wrong with you people" blames the company (a complaint), not a person
        "wrong with you people|guys|lot|all", "bank holiday|holidays", "a lot"], negation_window=3),
    "profanity": cue_set("profanity", [
        "fuck|fucking|fucked|fucker|fuckin|motherfucker|fck|effing|shit|shitty|bullshit|bitch|bastard|asshole|arsehole|cunt|twat|wanker|dickhead|prick|goddamn|goddamned",
        # mild swearing counts when aimed at someone or something ("your damn files", "damn you")
        "your|this|that|these|those|the|you|own *1 damn|damned|bloody|frigging|freaking", "damn|screw you|it|this|that",
        "so|too|how damn|bloody|frigging|freaking",  # "stop being so bloody difficult"
        "every|all|any damn|bloody|frigging|freaking",  # "every damn egg smashed"
    ], excludes=["the|a bloody nose|mary", "damn good|fine|right|well|sure"], negatable=False),
}

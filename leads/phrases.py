"""What the agent says in its own words, in each language it speaks (pure: no Django).

The parts of a reply the product controls rather than the model: the next qualification
question (from the conversation policy), the honest "a colleague will confirm", the hand-over
to a person, and the short acknowledgements. Each is a template with `{site}` for the Site's
name; every language has every phrase (tests/leads/test_phrases.py checks it). The register
is the polite one of each language (Sie, vous, usted): a company's first words to a stranger.
No phrase ends in a one-letter word ("u." in Dutch): the sentence splitter reads an initial.
"""

from __future__ import annotations

from collections.abc import Mapping

from leads.language import DEFAULT, LANGUAGES

# The next qualification question, by topic (leads/fields.py).
ASK: Mapping[str, Mapping[str, str]] = {
    "en": {
        "name": "May I have your name?",
        "email": "What is the best email address to reach you?",
        "phone": "Is there a phone number you would like us to call?",
        "company": "Which company are you with?",
        "job_title": "What is your role there?",
        "need": "What are you looking for?",
        "budget": "Do you have a budget in mind?",
        "seats": "How many people would use it?",
        "timeline": "When would you like to get started?",
        "decision_maker": "Who decides on the purchase?",
    },
    "es": {
        "name": "¿Me podría decir su nombre?",
        "email": "¿Cuál es el mejor correo electrónico para contactarle?",
        "phone": "¿Hay un número de teléfono al que prefiera que le llamemos?",
        "company": "¿En qué empresa trabaja?",
        "job_title": "¿Cuál es su cargo allí?",
        "need": "¿Qué está buscando?",
        "budget": "¿Tiene un presupuesto en mente?",
        "seats": "¿Cuántas personas lo usarían?",
        "timeline": "¿Cuándo le gustaría empezar?",
        "decision_maker": "¿Quién decide la compra?",
    },
    "de": {
        "name": "Darf ich nach Ihrem Namen fragen?",
        "email": "Unter welcher E-Mail-Adresse erreichen wir Sie am besten?",
        "phone": "Gibt es eine Telefonnummer, unter der wir Sie anrufen dürfen?",
        "company": "Für welches Unternehmen sind Sie tätig?",
        "job_title": "Welche Rolle haben Sie dort?",
        "need": "Wonach suchen Sie?",
        "budget": "Haben Sie ein Budget im Sinn?",
        "seats": "Wie viele Personen würden es nutzen?",
        "timeline": "Wann möchten Sie beginnen?",
        "decision_maker": "Wer entscheidet über den Kauf?",
    },
    "fr": {
        "name": "Puis-je avoir votre nom ?",
        "email": "Quelle est la meilleure adresse e-mail pour vous joindre ?",
        "phone": "Y a-t-il un numéro de téléphone auquel vous préférez être appelé ?",
        "company": "Pour quelle entreprise travaillez-vous ?",
        "job_title": "Quel est votre rôle ?",
        "need": "Que recherchez-vous ?",
        "budget": "Avez-vous un budget en tête ?",
        "seats": "Combien de personnes l'utiliseraient ?",
        "timeline": "Quand souhaitez-vous commencer ?",
        "decision_maker": "Qui décide de l'achat ?",
    },
    "pt": {
        "name": "Posso saber o seu nome?",
        "email": "Qual é o melhor e-mail para falarmos consigo?",
        "phone": "Há um número de telefone para o qual prefere que liguemos?",
        "company": "Em que empresa trabalha?",
        "job_title": "Qual é a sua função?",
        "need": "O que procura?",
        "budget": "Tem um orçamento em mente?",
        "seats": "Quantas pessoas o usariam?",
        "timeline": "Quando gostaria de começar?",
        "decision_maker": "Quem decide a compra?",
    },
    "it": {
        "name": "Posso chiederle il suo nome?",
        "email": "Qual è l'indirizzo e-mail migliore per contattarla?",
        "phone": "C'è un numero di telefono a cui preferisce essere chiamato?",
        "company": "Per quale azienda lavora?",
        "job_title": "Qual è il suo ruolo?",
        "need": "Che cosa sta cercando?",
        "budget": "Ha in mente un budget?",
        "seats": "Quante persone lo userebbero?",
        "timeline": "Quando vorrebbe iniziare?",
        "decision_maker": "Chi decide l'acquisto?",
    },
    "nl": {
        "name": "Mag ik uw naam weten?",
        "email": "Op welk e-mailadres kunnen we u het best bereiken?",
        "phone": "Is er een telefoonnummer waarop we u mogen bellen?",
        "company": "Voor welk bedrijf werkt u?",
        "job_title": "Wat is uw rol daar?",
        "need": "Waar bent u naar op zoek?",
        "budget": "Heeft u een budget in gedachten?",
        "seats": "Hoeveel mensen zouden het gebruiken?",
        "timeline": "Wanneer wilt u beginnen?",
        "decision_maker": "Wie beslist over de aankoop?",
    },
}

# The rest, by what the reply does.
SAY: Mapping[str, Mapping[str, str]] = {
    "en": {
        "colleague": "I don't want to guess on that, so a colleague will confirm it for you.",
        "person": "Of course: I have let the team know that you would like to talk to someone.",
        "thanks": "Thank you.",
        "greeting": "Hello, and welcome to {site}!",
        "off_topic": "I can only help with questions about {site}.",
        "abuse": "Let's keep this respectful. I'm here to help with questions about {site}.",
        "qualified": "Thank you, someone from the {site} team will follow up with you shortly.",
        "passage": "Here is what I can tell you: {quote}",
    },
    "es": {
        "colleague": "Prefiero no adivinar, así que un compañero se lo confirmará.",
        "person": "Por supuesto: he avisado al equipo de que desea hablar con una persona.",
        "thanks": "Gracias.",
        "greeting": "¡Hola, bienvenido a {site}!",
        "off_topic": "Solo puedo ayudarle con preguntas sobre {site}.",
        "abuse": "Mantengamos el respeto. Estoy aquí para ayudarle con preguntas sobre {site}.",
        "qualified": "Gracias, alguien del equipo de {site} le contactará pronto.",
        "passage": "Esto es lo que le puedo decir: {quote}",
    },
    "de": {
        "colleague": "Da möchte ich nicht raten: Ein Kollege wird es Ihnen bestätigen.",
        "person": "Gern: Ich habe dem Team Bescheid gegeben, dass Sie jemanden sprechen möchten.",
        "thanks": "Vielen Dank.",
        "greeting": "Hallo und willkommen bei {site}!",
        "off_topic": "Ich kann nur bei Fragen zu {site} helfen.",
        "abuse": "Bleiben wir respektvoll. Ich bin hier, um bei Fragen zu {site} zu helfen.",
        "qualified": "Vielen Dank, jemand aus dem Team von {site} meldet sich in Kürze bei Ihnen.",
        "passage": "Dazu kann ich Ihnen Folgendes sagen: {quote}",
    },
    "fr": {
        "colleague": "Je préfère ne pas deviner : un collègue vous le confirmera.",
        "person": "Bien sûr : j'ai prévenu l'équipe que vous souhaitez parler à quelqu'un.",
        "thanks": "Merci.",
        "greeting": "Bonjour et bienvenue chez {site} !",
        "off_topic": "Je ne peux répondre qu'aux questions sur {site}.",
        "abuse": "Restons courtois. Je suis là pour répondre à vos questions sur {site}.",
        "qualified": "Merci, quelqu'un de l'équipe {site} vous recontactera très bientôt.",
        "passage": "Voici ce que je peux vous dire : {quote}",
    },
    "pt": {
        "colleague": "Prefiro não adivinhar, por isso um colega vai confirmar-lhe isso.",
        "person": "Claro: avisei a equipa de que gostaria de falar com uma pessoa.",
        "thanks": "Obrigado.",
        "greeting": "Olá, bem-vindo à {site}!",
        "off_topic": "Só posso ajudar com perguntas sobre a {site}.",
        "abuse": "Vamos manter o respeito. Estou aqui para ajudar com perguntas sobre a {site}.",
        "qualified": "Obrigado, alguém da equipa da {site} entrará em contacto consigo em breve.",
        "passage": "Eis o que lhe posso dizer: {quote}",
    },
    "it": {
        "colleague": "Preferisco non tirare a indovinare: un collega glielo confermerà.",
        "person": "Certo: ho avvisato il team che desidera parlare con una persona.",
        "thanks": "Grazie.",
        "greeting": "Salve e benvenuto da {site}!",
        "off_topic": "Posso aiutarla solo con domande su {site}.",
        "abuse": "Manteniamo il rispetto. Sono qui per aiutarla con domande su {site}.",
        "qualified": "Grazie, qualcuno del team di {site} la contatterà a breve.",
        "passage": "Ecco cosa posso dirle: {quote}",
    },
    "nl": {
        "colleague": "Daar wil ik niet naar gissen: een collega zal het voor u bevestigen.",
        "person": "Natuurlijk: ik heb het team laten weten dat u iemand wilt spreken.",
        "thanks": "Hartelijk dank.",
        "greeting": "Hallo en welkom bij {site}!",
        "off_topic": "Ik kan alleen helpen met vragen over {site}.",
        "abuse": "Laten we respectvol blijven. Ik ben er om te helpen met vragen over {site}.",
        "qualified": "Dank u, iemand van het team van {site} neemt binnenkort contact met u op.",
        "passage": "Dit kan ik u erover vertellen: {quote}",
    },
}


def _in(language: str) -> str:
    return language if language in LANGUAGES else DEFAULT


def ask(topic: str, *, language: str) -> str:
    """The question that asks the visitor for qualification topic `topic`."""
    return ASK[_in(language)][topic]


def say(key: str, *, language: str, site: str, quote: str = "") -> str:
    """Phrase `key` in `language` for the Site named `site`."""
    return SAY[_in(language)][key].format(site=site, quote=quote)
